import Ops
import TensorCore

/// The shape of a reversible encoder-decoder: widths, splits, depth, and the op list of
/// every node. Encoder layers have n splits; decoder layers n+1, the last node fixed to
/// cross-attention (DESIGN.md section 4).
public struct ModelConfig: Codable, Sendable, Equatable {
    public var sourceVocabulary: Int
    public var targetVocabulary: Int
    /// Factorised embedding width e (vocab x e, then e x d).
    public var embeddingWidth: Int
    /// Hidden width d; must divide by n and by n + 1.
    public var modelWidth: Int
    /// n: splits of an encoder layer (decoder: n + 1).
    public var splits: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var heads: Int
    public var pooling: Pooling
    /// How parametric ops are wrapped inside G_k (post-norm: DESIGN.md section 2).
    public var wrap: OpWrap
    /// How a searched node sums its ops (plain: DESIGN.md section 2).
    public var mixture: Mixture
    public var dropout: Double
    public var dtype: DType
    /// Op names mixed at every searched encoder node; ["all"] for every registered candidate.
    public var encoderOps: [String]
    /// Op names mixed at every searched decoder node (the first n nodes).
    public var decoderOps: [String]
    /// Derived models: the single op of every node, [layer][node]; overrides the op lists.
    public var encoderGenotype: [[String]]?
    public var decoderGenotype: [[String]]?
    /// Seed of the weight initialisation.
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case sourceVocabulary = "source_vocabulary", targetVocabulary = "target_vocabulary"
        case embeddingWidth = "embedding_width", modelWidth = "model_width", splits
        case encoderLayers = "encoder_layers", decoderLayers = "decoder_layers", heads, pooling, wrap, mixture, dropout, dtype
        case encoderOps = "encoder_ops", decoderOps = "decoder_ops"
        case encoderGenotype = "encoder_genotype", decoderGenotype = "decoder_genotype", seed
    }

    public init(
        sourceVocabulary: Int = 64, targetVocabulary: Int = 64, embeddingWidth: Int = 32, modelWidth: Int = 240,
        splits: Int = 2, encoderLayers: Int = 2, decoderLayers: Int = 2, heads: Int = 4, pooling: Pooling = .max,
        wrap: OpWrap = .postNorm, mixture: Mixture = .plain, dropout: Double = 0.1, dtype: DType = .float32, encoderOps: [String] = ["all"], decoderOps: [String] = ["all"],
        encoderGenotype: [[String]]? = nil, decoderGenotype: [[String]]? = nil, seed: UInt64 = 1
    ) {
        self.sourceVocabulary = sourceVocabulary; self.targetVocabulary = targetVocabulary
        self.embeddingWidth = embeddingWidth; self.modelWidth = modelWidth; self.splits = splits
        self.encoderLayers = encoderLayers; self.decoderLayers = decoderLayers; self.heads = heads
        self.pooling = pooling; self.wrap = wrap; self.mixture = mixture; self.dropout = dropout; self.dtype = dtype
        self.encoderOps = encoderOps; self.decoderOps = decoderOps
        self.encoderGenotype = encoderGenotype; self.decoderGenotype = decoderGenotype; self.seed = seed
    }

    /// Every field as encoded; `wrap` and `mixture` are optional (checkpoints written before
    /// they existed hold post-norm models with plain mixtures).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(sourceVocabulary: try c.decode(Int.self, forKey: .sourceVocabulary), targetVocabulary: try c.decode(Int.self, forKey: .targetVocabulary),
                  embeddingWidth: try c.decode(Int.self, forKey: .embeddingWidth), modelWidth: try c.decode(Int.self, forKey: .modelWidth),
                  splits: try c.decode(Int.self, forKey: .splits), encoderLayers: try c.decode(Int.self, forKey: .encoderLayers),
                  decoderLayers: try c.decode(Int.self, forKey: .decoderLayers), heads: try c.decode(Int.self, forKey: .heads),
                  pooling: try c.decode(Pooling.self, forKey: .pooling), wrap: try c.decodeIfPresent(OpWrap.self, forKey: .wrap) ?? .postNorm,
                  mixture: try c.decodeIfPresent(Mixture.self, forKey: .mixture) ?? .plain,
                  dropout: try c.decode(Double.self, forKey: .dropout), dtype: try c.decode(DType.self, forKey: .dtype),
                  encoderOps: try c.decode([String].self, forKey: .encoderOps), decoderOps: try c.decode([String].self, forKey: .decoderOps),
                  encoderGenotype: try c.decodeIfPresent([[String]].self, forKey: .encoderGenotype),
                  decoderGenotype: try c.decodeIfPresent([[String]].self, forKey: .decoderGenotype), seed: try c.decode(UInt64.self, forKey: .seed))
    }

    /// Problems that make the config unbuildable, each naming the field.
    public func validate(registry: OpRegistry) -> [String] {
        var problems: [String] = []
        // Ranges first: the divisibility checks and the size estimate below need them.
        let ranges = [SizeLimits.check("splits", splits, in: 2...64),
                      SizeLimits.check("model_width", modelWidth, in: 1...SizeLimits.dimension),
                      SizeLimits.check("embedding_width", embeddingWidth, in: 1...SizeLimits.dimension),
                      SizeLimits.check("source_vocabulary", sourceVocabulary, in: 4...SizeLimits.dimension),
                      SizeLimits.check("target_vocabulary", targetVocabulary, in: 4...SizeLimits.dimension),
                      SizeLimits.check("encoder_layers", encoderLayers, in: 1...SizeLimits.depth),
                      SizeLimits.check("decoder_layers", decoderLayers, in: 1...SizeLimits.depth),
                      SizeLimits.check("heads", heads, in: 1...SizeLimits.dimension)].compactMap { $0 }
        guard ranges.isEmpty else { return ranges }
        if !(0..<1).contains(dropout) { problems.append("dropout: must be in [0, 1), got \(dropout)") }
        // Every candidate op holds at least one c x c matrix per node: a lower bound that
        // refuses only what cannot fit.
        let opsPerNode = Double(max(encoderOps.count, decoderOps.count, 1))
        let c = Double(modelWidth) / Double(splits)
        let estimate = Double(sourceVocabulary + targetVocabulary) * Double(embeddingWidth)
            + Double(encoderLayers + decoderLayers) * Double(splits + 1) * opsPerNode * c * c
        if let problem = SizeLimits.memoryProblem(scalars: estimate, dtype: dtype, what: "model_width \(modelWidth), \(encoderLayers)+\(decoderLayers) layers, vocabularies \(sourceVocabulary)/\(targetVocabulary)") {
            problems.append(problem)
        }
        if modelWidth % splits != 0 || modelWidth % (splits + 1) != 0 {
            problems.append("model_width: \(modelWidth) must divide by splits (\(splits)) and splits + 1 (\(splits + 1))")
        }
        for (field, width) in [("encoder", modelWidth / splits), ("decoder", modelWidth / (splits + 1))] where width % heads != 0 {
            problems.append("heads: \(heads) must divide the \(field) split width \(width)")
        }
        for (field, ops) in [("encoder_ops", encoderOps), ("decoder_ops", decoderOps)] {
            for op in ops where op != "all" && registry.entries[op] == nil {
                problems.append("\(field): unknown op '\(op)'; registered: \(registry.names.joined(separator: ", "))")
            }
            if ops.isEmpty { problems.append("\(field): empty") }
        }
        if encoderOps.contains(where: { registry.entries[$0]?.decoderOnly == true }) {
            problems.append("encoder_ops: decoder-only ops (cross_attn) cannot be used in the encoder")
        }
        for (field, genotype, layers, nodes) in [("encoder_genotype", encoderGenotype, encoderLayers, splits),
                                                  ("decoder_genotype", decoderGenotype, decoderLayers, splits)] {
            guard let genotype else { continue }
            if genotype.count != layers { problems.append("\(field): \(genotype.count) layers, expected \(layers)") }
            for (i, layer) in genotype.enumerated() {
                if layer.count != nodes { problems.append("\(field)[\(i)]: \(layer.count) nodes, expected \(nodes)") }
                for op in layer where registry.entries[op] == nil {
                    problems.append("\(field)[\(i)]: unknown op '\(op)'")
                }
                for op in layer where field == "encoder_genotype" && registry.entries[op]?.decoderOnly == true {
                    problems.append("\(field)[\(i)]: decoder-only op '\(op)' cannot be used in the encoder")
                }
            }
        }
        return problems
    }

    /// The op lists of each searched node of one layer.
    func nodeOps(decoder: Bool, layer: Int, registry: OpRegistry) -> [[String]] {
        if let genotype = decoder ? decoderGenotype : encoderGenotype {
            return genotype[layer].map { [$0] }
        }
        let listed = decoder ? decoderOps : encoderOps
        let ops = listed == ["all"] ? registry.candidates(decoder: decoder) : listed
        return Array(repeating: ops, count: splits)
    }
}
