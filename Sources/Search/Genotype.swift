import Foundation
import Ops
import Reversible
import TensorCore

/// A derived architecture: the op of every node of the s searched layers, which the derived
/// model stacks to its full depth (layer i uses block layer i mod s). Versioned JSON.
public struct Genotype: Codable, Sendable, Equatable {
    public static let currentVersion = 1
    public var version = Genotype.currentVersion
    /// n: encoder splits (the decoder has n + 1, the last fixed to cross_attn).
    public var splits: Int
    /// s: searched layers per block.
    public var blockLayers: Int
    public var modelWidth: Int
    public var embeddingWidth: Int
    public var pooling: Pooling
    /// How the searched super-network wrapped its ops, and so how the derived model wraps
    /// them; absent (post-norm) in genotypes written before the choice existed.
    public var wrap: OpWrap?
    /// [layer][node] op names, s x n each.
    public var encoder: [[String]]
    public var decoder: [[String]]
    /// softmax(alpha) of every node when derived, [stack.layer.split: weights by op], for the record.
    public var weights: [String: [String: Double]]?

    public init(splits: Int, blockLayers: Int, modelWidth: Int, embeddingWidth: Int, pooling: Pooling, wrap: OpWrap?,
                encoder: [[String]], decoder: [[String]], weights: [String: [String: Double]]?) {
        self.splits = splits; self.blockLayers = blockLayers; self.modelWidth = modelWidth
        self.embeddingWidth = embeddingWidth; self.pooling = pooling; self.wrap = wrap
        self.encoder = encoder; self.decoder = decoder; self.weights = weights
    }

    enum CodingKeys: String, CodingKey {
        case version, splits, pooling, wrap, encoder, decoder, weights
        case blockLayers = "block_layers", modelWidth = "model_width", embeddingWidth = "embedding_width"
    }

    /// At each searched node, the op with the largest softmax(alpha) other than `zero`
    /// (DARTS' derivation; zero would remove the node).
    public static func derive(from model: ReversibleTransformer) -> Genotype {
        derive(from: model) { _, ops, weights in
            zip(ops, weights).filter { $0.0 != "zero" }.max { $0.1 < $1.1 }?.0 ?? ops[0]
        }
    }

    /// At each searched node (named `stack.layerI.splitK`), the op `choose` picks from the
    /// node's op names and softmax(alpha); the weights are recorded either way.
    public static func derive(from model: ReversibleTransformer, choosing choose: (_ node: String, _ ops: [String], _ weights: [Double]) -> String) -> Genotype {
        var weights: [String: [String: Double]] = [:]
        func chosen(_ stack: String, _ layers: [ReversibleLayer], searchedNodes: Int) -> [[String]] {
            layers.enumerated().map { i, layer in
                (0..<searchedNodes).map { k in
                    let node = layer.functions[k]
                    guard let w = node.weights else { return node.opNames[0] }
                    let name = ReversibleTransformer.nodeName(stack, layer: i, split: k)
                    weights[name] = Dictionary(uniqueKeysWithValues: zip(node.opNames, w))
                    return choose(name, node.opNames, w)
                }
            }
        }
        let c = model.config
        return Genotype(splits: c.splits, blockLayers: c.encoderLayers, modelWidth: c.modelWidth, embeddingWidth: c.embeddingWidth,
                        pooling: c.pooling, wrap: c.wrap, encoder: chosen("encoder", model.encoder, searchedNodes: c.splits),
                        decoder: chosen("decoder", model.decoder, searchedNodes: c.splits), weights: weights)
    }

    /// Searched nodes whose derived op is not the largest raw alpha other than `zero`:
    /// softmax is monotone, so the two must agree. A check of the derivation that reads the
    /// alpha tensors themselves, not the softmax `derive` goes through.
    public func disagreements(with model: ReversibleTransformer) -> [String] {
        func check(_ stack: String, _ layers: [ReversibleLayer], _ chosen: [[String]]) -> [String] {
            zip(layers, chosen).enumerated().flatMap { i, pair in
                let (layer, ops) = pair
                return ops.enumerated().compactMap { k, op -> String? in
                    let node = layer.functions[k]
                    guard let alpha = node.alpha?.scalars else { return nil }
                    let best = zip(node.opNames, alpha).filter { $0.0 != "zero" }.max { $0.1 < $1.1 }?.0
                    return best == op ? nil : "\(ReversibleTransformer.nodeName(stack, layer: i, split: k)): derived \(op), largest alpha \(best ?? "none")"
                }
            }
        }
        return check("encoder", model.encoder, encoder) + check("decoder", model.decoder, decoder)
    }

    /// A model config that stacks this block to `encoderLayers` + `decoderLayers`.
    /// A genotype of the same shape (splits, block layers, widths, pooling) whose ops are
    /// drawn uniformly at random from the same search space: at each node the ops the
    /// search weighed there (recorded in `weights`), else the registry's candidates; never
    /// `zero`, which the derivation never picks. The sanity baseline of a NAS result.
    public static func random(like template: Genotype, registry: OpRegistry = .standard, seed: UInt64) -> Genotype {
        var rng = RandomState(seed: seed)
        func draw(_ stack: String, _ layers: [[String]]) -> [[String]] {
            layers.enumerated().map { i, nodes in
                nodes.indices.map { k in
                    // Sorted either way, so a genotype that records its weights and one that
                    // does not (the same search space) give the same draw for a seed.
                    let weighed = template.weights?[ReversibleTransformer.nodeName(stack, layer: i, split: k)].map { Array($0.keys) }
                    let space = (weighed ?? registry.candidates(decoder: stack == "decoder")).sorted().filter { $0 != "zero" }
                    return space.isEmpty ? nodes[k] : space[Int(rng.next() % UInt64(space.count))]
                }
            }
        }
        return Genotype(splits: template.splits, blockLayers: template.blockLayers, modelWidth: template.modelWidth,
                        embeddingWidth: template.embeddingWidth, pooling: template.pooling, wrap: template.wrap,
                        encoder: draw("encoder", template.encoder), decoder: draw("decoder", template.decoder), weights: nil)
    }

    public func modelConfig(base: ModelConfig, encoderLayers: Int, decoderLayers: Int) -> ModelConfig {
        var config = base
        config.splits = splits
        config.modelWidth = modelWidth
        config.embeddingWidth = embeddingWidth
        config.pooling = pooling
        config.wrap = wrap ?? .postNorm
        config.encoderLayers = encoderLayers
        config.decoderLayers = decoderLayers
        config.encoderGenotype = (0..<encoderLayers).map { encoder[$0 % encoder.count] }
        config.decoderGenotype = (0..<decoderLayers).map { decoder[$0 % decoder.count] }
        return config
    }

    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(try encoder.encode(Stamped(self)), to: path)
    }

    /// Reads and checks a genotype file; errors name the file and what is wrong.
    public static func load(_ path: String) throws -> Genotype {
        guard let data = FileManager.default.contents(atPath: path) else { throw SearchError("\(path): cannot read the genotype") }
        let genotype: Genotype
        do { genotype = try JSONDecoder().decode(Genotype.self, from: data) } catch {
            throw SearchError("\(path): not a genotype (expected version, splits, block_layers, model_width, embedding_width, pooling, encoder, decoder): \(DecodingErrorText.describe(error))")
        }
        guard genotype.version == currentVersion else {
            throw SearchError("\(path): version \(genotype.version), this RevSearch reads version \(currentVersion)")
        }
        for (field, layers) in [("encoder", genotype.encoder), ("decoder", genotype.decoder)] {
            guard layers.count == genotype.blockLayers else {
                throw SearchError("\(path): \(field) has \(layers.count) layers, block_layers is \(genotype.blockLayers)")
            }
            for (i, nodes) in layers.enumerated() where nodes.count != genotype.splits {
                throw SearchError("\(path): \(field)[\(i)] has \(nodes.count) nodes, splits is \(genotype.splits)")
            }
        }
        return genotype
    }

    /// What makes the genotype unbuildable, each problem under its JSON field.
    public func problems(registry: OpRegistry) -> [String] {
        var problems: [String] = []
        let n = splits, d = modelWidth
        if n < 2 || n > 64 {
            problems.append("splits: must be in 2...64, found \(n)")
        } else if d < 1 || d % n != 0 || d % (n + 1) != 0 {
            problems.append("model_width: \(d) must divide by splits (\(n)) and splits + 1 (\(n + 1))")
        }
        if blockLayers < 1 || blockLayers > SizeLimits.depth { problems.append("block_layers: must be in 1...\(SizeLimits.depth), found \(blockLayers)") }
        if d > SizeLimits.dimension { problems.append("model_width: must be at most \(SizeLimits.dimension), found \(d)") }
        if embeddingWidth < 1 || embeddingWidth > SizeLimits.dimension { problems.append("embedding_width: must be in 1...\(SizeLimits.dimension), found \(embeddingWidth)") }
        for (field, layers) in [("encoder", encoder), ("decoder", decoder)] {
            for (i, nodes) in layers.enumerated() {
                for (k, op) in nodes.enumerated() {
                    guard let entry = registry.entries[op] else {
                        problems.append("\(field)[\(i)][\(k)]: unknown op '\(op)'; registered: \(registry.names.joined(separator: ", "))")
                        continue
                    }
                    if field == "encoder" && entry.decoderOnly {
                        problems.append("\(field)[\(i)][\(k)]: '\(op)' is decoder-only (it attends to the encoder output)")
                    }
                }
            }
        }
        return problems
    }
}
