import Foundation
import Ops
import Reversible
import TensorCore

/// A standard Transformer encoder-decoder (pre-LN, as in Xiong et al. 2020): the baseline
/// the searched architectures are compared with. One embedding matrix is shared by the
/// source, the target and the output projection (fairseq's --share-all-embeddings), which a
/// joint BPE vocabulary allows.
public final class TransformerBaseline: TranslationModel {
    public struct Config: Codable, Sendable, Equatable {
        public var vocabulary: Int
        public var modelWidth: Int
        public var encoderLayers: Int
        public var decoderLayers: Int
        public var heads: Int
        public var dropout: Double
        public var dtype: DType
        public var seed: UInt64

        public init(vocabulary: Int, modelWidth: Int = 256, encoderLayers: Int = 3, decoderLayers: Int = 3, heads: Int = 4,
                    dropout: Double = 0.1, dtype: DType = .float32, seed: UInt64 = 1) {
            self.vocabulary = vocabulary; self.modelWidth = modelWidth; self.encoderLayers = encoderLayers
            self.decoderLayers = decoderLayers; self.heads = heads; self.dropout = dropout; self.dtype = dtype; self.seed = seed
        }

        enum CodingKeys: String, CodingKey {
            case vocabulary, heads, dropout, dtype, seed
            case modelWidth = "model_width", encoderLayers = "encoder_layers", decoderLayers = "decoder_layers"
        }

        /// The camelCase keys of checkpoints written before the snake_case ones; still read.
        enum EarlierKeys: String, CodingKey {
            case modelWidth, encoderLayers, decoderLayers
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), earlier = try decoder.container(keyedBy: EarlierKeys.self)
            func size(_ key: CodingKeys, _ old: EarlierKeys) throws -> Int {
                if !c.contains(key), earlier.contains(old) { return try earlier.decode(Int.self, forKey: old) }
                return try c.decode(Int.self, forKey: key)
            }
            self.init(vocabulary: try c.decode(Int.self, forKey: .vocabulary), modelWidth: try size(.modelWidth, .modelWidth),
                      encoderLayers: try size(.encoderLayers, .encoderLayers), decoderLayers: try size(.decoderLayers, .decoderLayers),
                      heads: try c.decode(Int.self, forKey: .heads), dropout: try c.decode(Double.self, forKey: .dropout),
                      dtype: try c.decode(DType.self, forKey: .dtype), seed: try c.decode(UInt64.self, forKey: .seed))
        }

        /// What is wrong with the config (empty when it builds), by field.
        public func validate() -> [String] {
            let ranges = [SizeLimits.check("vocabulary", vocabulary, in: 4...SizeLimits.dimension),
                          SizeLimits.check("model_width", modelWidth, in: 1...SizeLimits.dimension),
                          SizeLimits.check("encoder_layers", encoderLayers, in: 1...SizeLimits.depth),
                          SizeLimits.check("decoder_layers", decoderLayers, in: 1...SizeLimits.depth),
                          SizeLimits.check("heads", heads, in: 1...SizeLimits.dimension)].compactMap { $0 }
            guard ranges.isEmpty else { return ranges }
            var problems: [String] = []
            if modelWidth % heads != 0 { problems.append("heads: \(heads) must divide model_width \(modelWidth)") }
            if !(0..<1).contains(dropout) { problems.append("dropout: must be in [0, 1), got \(dropout)") }
            // Attention's four d x d matrices and the feed-forward's two d x 4d per layer.
            let estimate = Double(vocabulary) * Double(modelWidth) + Double(encoderLayers + decoderLayers) * 12 * Double(modelWidth) * Double(modelWidth)
            if let problem = SizeLimits.memoryProblem(scalars: estimate, dtype: dtype, what: "model_width \(modelWidth), \(encoderLayers)+\(decoderLayers) layers, vocabulary \(vocabulary)") {
                problems.append(problem)
            }
            return problems
        }
    }

    /// LayerNorm gain and bias.
    struct Norm {
        let gain: Tensor, bias: Tensor
        init(_ d: Int, _ dtype: DType) {
            gain = .parameter(filled: 1, shape: [d], dtype: dtype)
            bias = .parameter(filled: 0, shape: [d], dtype: dtype)
        }
        func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, gamma: gain, beta: bias) }
        func named(_ prefix: String) -> [(name: String, tensor: Tensor)] { [("\(prefix).weight", gain), ("\(prefix).bias", bias)] }
    }

    struct EncoderLayer {
        let attentionNorm: Norm, attention: MultiHeadAttention, feedForwardNorm: Norm, feedForward: FeedForward
    }

    struct DecoderLayer {
        let selfNorm: Norm, selfAttention: MultiHeadAttention, crossNorm: Norm, crossAttention: MultiHeadAttention
        let feedForwardNorm: Norm, feedForward: FeedForward
    }

    public let config: Config
    let tokenEmbedding: Tensor   // [V, d]
    let encoderLayers: [EncoderLayer]
    let decoderLayers: [DecoderLayer]
    let encoderNorm: Norm, decoderNorm: Norm

    public var targetVocabulary: Int { config.vocabulary }
    public var architecture: ModelArchitecture { .baseline(config) }

    public init(_ config: Config) {
        self.config = config
        var rng = RandomState(seed: config.seed)
        let d = config.modelWidth
        tokenEmbedding = .parameter(normal: [config.vocabulary, d], std: 1 / Double(d).squareRoot(), dtype: config.dtype, rng: &rng)
        let selfSpec = OpSpec(channels: d, modelWidth: d, heads: config.heads, causal: false, dtype: config.dtype)
        var causalSpec = selfSpec
        causalSpec.causal = true
        encoderLayers = (0..<config.encoderLayers).map { _ in
            EncoderLayer(attentionNorm: Norm(d, config.dtype), attention: MultiHeadAttention(selfSpec, cross: false, rng: &rng),
                         feedForwardNorm: Norm(d, config.dtype), feedForward: FeedForward(selfSpec, rng: &rng))
        }
        decoderLayers = (0..<config.decoderLayers).map { _ in
            DecoderLayer(selfNorm: Norm(d, config.dtype), selfAttention: MultiHeadAttention(causalSpec, cross: false, rng: &rng),
                         crossNorm: Norm(d, config.dtype), crossAttention: MultiHeadAttention(causalSpec, cross: true, rng: &rng),
                         feedForwardNorm: Norm(d, config.dtype), feedForward: FeedForward(selfSpec, rng: &rng))
        }
        encoderNorm = Norm(d, config.dtype)
        decoderNorm = Norm(d, config.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = [("embedding.weight", tokenEmbedding)]
        for (i, l) in encoderLayers.enumerated() {
            let p = "encoder.layer\(i + 1)"
            all += l.attentionNorm.named("\(p).self_attn_norm") + l.attention.parameters.map { ("\(p).self_attn.\($0.name)", $0.tensor) }
            all += l.feedForwardNorm.named("\(p).ffn_norm") + l.feedForward.parameters.map { ("\(p).ffn.\($0.name)", $0.tensor) }
        }
        all += encoderNorm.named("encoder.norm")
        for (i, l) in decoderLayers.enumerated() {
            let p = "decoder.layer\(i + 1)"
            all += l.selfNorm.named("\(p).self_attn_norm") + l.selfAttention.parameters.map { ("\(p).self_attn.\($0.name)", $0.tensor) }
            all += l.crossNorm.named("\(p).cross_attn_norm") + l.crossAttention.parameters.map { ("\(p).cross_attn.\($0.name)", $0.tensor) }
            all += l.feedForwardNorm.named("\(p).ffn_norm") + l.feedForward.parameters.map { ("\(p).ffn.\($0.name)", $0.tensor) }
        }
        return all + decoderNorm.named("decoder.norm")
    }

    // MARK: - Forward

    /// ids [B, T] -> sqrt(d) E[ids] + positions from `firstPosition` on, then dropout.
    func embed(_ ids: [Int32], batch: Int, length: Int, firstPosition: Int = 0, dropout rate: Double, key: UInt64) -> Tensor {
        let d = config.modelWidth
        let tokens = scale(embedding(tokenEmbedding, ids: ids, shape: [batch, length]), Double(d).squareRoot())
        let positioned = add(tokens, sinusoidalPositions(length: length, width: d, dtype: config.dtype, start: firstPosition))
        return rate > 0 ? dropout(positioned, rate: rate, key: key) : positioned
    }

    /// x + Dropout(sublayer(x)), the pre-LN residual.
    func residual(_ x: Tensor, _ rate: Double, _ key: UInt64, _ sublayer: (Tensor) -> Tensor) -> Tensor {
        let out = sublayer(x)
        return add(x, rate > 0 ? dropout(out, rate: rate, key: key) : out)
    }

    func encodeTensor(_ batch: Seq2SeqBatch, masks: BatchMasks, rate: Double, key: UInt64) -> Tensor {
        withScope("encoder") {
            var x = withScope("embedding") {
                embed(batch.source, batch: batch.batchSize, length: batch.sourceLength, dropout: rate, key: RandomState.mix(key ^ 1))
            }
            let context = OpContext(keyMask: masks.source)
            for (i, l) in encoderLayers.enumerated() {
                x = withScope("layer\(i + 1)") {
                    let k = RandomState.mix(key ^ UInt64(100 + i))
                    var h = residual(x, rate, k) { l.attention.forward(l.attentionNorm($0), context) }
                    h = residual(h, rate, RandomState.mix(k ^ 7)) { l.feedForward.forward(l.feedForwardNorm($0), context) }
                    return h
                }
            }
            return encoderNorm(x)
        }
    }

    func decodeTensor(_ memory: Tensor, memoryMask: Tensor, targetInput: [Int32], batch: Int, length: Int,
                      targetMask: Tensor?, rate: Double, key: UInt64, lastPositionOnly: Bool = false) -> Tensor {
        withScope("decoder") {
            var x = withScope("embedding") { embed(targetInput, batch: batch, length: length, dropout: rate, key: RandomState.mix(key ^ 2)) }
            let context = OpContext(memory: memory, memoryMask: memoryMask, keyMask: targetMask)
            for (i, l) in decoderLayers.enumerated() {
                x = withScope("layer\(i + 1)") {
                    decoderLayer(l, x, context, rate: rate, key: RandomState.mix(key ^ UInt64(200 + i)),
                                 selfAttention: { l.selfAttention.forward($0, context) },
                                 crossAttention: { l.crossAttention.forward($0, context) })
                }
            }
            return outputLogits(lastPositionOnly ? lastPositions(x, 1) : x)
        }
    }

    /// One pre-LN decoder layer around its two attention sublayers: a full decode runs
    /// them over the prefix, an incremental one from their caches.
    func decoderLayer(_ l: DecoderLayer, _ x: Tensor, _ context: OpContext, rate: Double, key k: UInt64,
                      selfAttention: (Tensor) -> Tensor, crossAttention: (Tensor) -> Tensor) -> Tensor {
        var h = residual(x, rate, k) { selfAttention(l.selfNorm($0)) }
        h = residual(h, rate, RandomState.mix(k ^ 5)) { crossAttention(l.crossNorm($0)) }
        h = residual(h, rate, RandomState.mix(k ^ 7)) { l.feedForward.forward(l.feedForwardNorm($0), context) }
        return h
    }

    /// Decoder top [B, T, d] -> logits [B*T, V]: the tied projection LN(x) Eᵀ.
    func outputLogits(_ x: Tensor) -> Tensor {
        let normed = decoderNorm(x)
        return withScope("output") { linear(reshape(normed, [-1, config.modelWidth]), weight: tokenEmbedding) }
    }

    func lossTensor(_ batch: Seq2SeqBatch, key: UInt64, rate: Double, labelSmoothing: Double) -> Tensor {
        let masks = BatchMasks(batch, dtype: config.dtype)
        let memory = encodeTensor(batch, masks: masks, rate: rate, key: key)
        let logits = decodeTensor(memory, memoryMask: masks.source, targetInput: batch.targetInput, batch: batch.batchSize,
                                  length: batch.targetLength, targetMask: masks.target, rate: rate, key: key)
        return crossEntropy(logits: logits, targets: batch.targetOutput, labelSmoothing: labelSmoothing, ignoreIndex: batch.padID)
    }

    // MARK: - TranslationModel

    public func trainingStep(_ batch: Seq2SeqBatch, dropoutKey: UInt64, labelSmoothing: Double) -> Double {
        let runtime = Runtime.current
        let tape = Tape()
        // A process's share of a global batch draws its rows' masks of the global batch.
        let loss = runtime.withPhase(.forward) { runtime.withBatchRows(first: batch.firstRow, count: batch.batchSize) {
            tape.recording { lossTensor(batch, key: dropoutKey, rate: config.dropout, labelSmoothing: labelSmoothing) }
        } }
        runtime.withPhase(.backward) { tape.backward(loss) }
        return loss.scalarValue
    }

    public func evaluateLoss(_ batch: Seq2SeqBatch, labelSmoothing: Double) -> Double {
        Runtime.current.withTape(nil) { lossTensor(batch, key: 0, rate: 0, labelSmoothing: labelSmoothing).scalarValue }
    }

    public func encode(_ batch: Seq2SeqBatch) -> EncodedSource {
        Runtime.current.withTape(nil) {
            let masks = BatchMasks(batch, dtype: config.dtype)
            return EncodedSource(memory: encodeTensor(batch, masks: masks, rate: 0, key: 0), mask: masks.source,
                                 sourceLengths: batch.sourceLengths)
        }
    }

    public func decode(_ encoded: EncodedSource, targetInput: [[Int32]], lastPositionOnly: Bool) -> Tensor {
        Runtime.current.withTape(nil) {
            let length = targetInput.first?.count ?? 0
            precondition(targetInput.allSatisfy { $0.count == length }, "decoder inputs must share one length")
            let logits = decodeTensor(encoded.memory, memoryMask: encoded.mask, targetInput: targetInput.flatMap { $0 },
                                      batch: targetInput.count, length: length, targetMask: nil, rate: 0, key: 0,
                                      lastPositionOnly: lastPositionOnly)
            return reshape(logits, lastPositionOnly ? [targetInput.count, config.vocabulary] : [targetInput.count, length, config.vocabulary])
        }
    }

    /// Two caches per decoder layer: its self-attention's and its cross-attention's.
    public func startDecoding() -> DecodingState { DecodingState(ops: 2 * decoderLayers.count) }

    public func decodeStep(_ encoded: EncodedSource, tokens: [Int32], state: inout DecodingState) -> Tensor {
        Runtime.current.withTape(nil) {
            let (batch, position) = (tokens.count, state.position)
            let context = OpContext(memory: encoded.memory, memoryMask: encoded.mask,
                                    keyMask: Seq2SeqBatch.additiveMask(lengths: Array(repeating: position + 1, count: batch),
                                                                       length: position + 1, dtype: config.dtype))
            let logits = withScope("decoder") {
                var x = withScope("embedding") { embed(tokens, batch: batch, length: 1, firstPosition: position, dropout: 0, key: 0) }
                for (i, l) in decoderLayers.enumerated() {
                    x = withScope("layer\(i + 1)") {
                        decoderLayer(l, x, context, rate: 0, key: 0,
                                     selfAttention: { l.selfAttention.decodeStep($0, context, cache: &state.caches[2 * i]) },
                                     crossAttention: { l.crossAttention.decodeStep($0, context, cache: &state.caches[2 * i + 1]) })
                    }
                }
                return outputLogits(x)
            }
            state.position += 1
            return logits
        }
    }
}

/// Additive padding masks [B, 1, 1, L] (0 real, -inf padding) of a batch's two sides.
struct BatchMasks {
    let source: Tensor
    let target: Tensor

    init(_ batch: Seq2SeqBatch, dtype: DType) {
        source = Seq2SeqBatch.additiveMask(lengths: batch.sourceLengths, length: batch.sourceLength, dtype: dtype)
        target = Seq2SeqBatch.additiveMask(lengths: batch.targetLengths, length: batch.targetLength, dtype: dtype)
    }
}

extension TransformerBaseline {
    /// The baseline of a super-network's size settings: its width, heads, depth, vocabulary,
    /// dropout, dtype and seed (what `verify --model baseline` checks and `plan` and
    /// `profile` measure beside the super-network).
    public convenience init(matching model: ModelConfig) {
        self.init(.init(vocabulary: model.targetVocabulary, modelWidth: model.modelWidth, encoderLayers: model.encoderLayers,
                        decoderLayers: model.decoderLayers, heads: model.heads, dropout: model.dropout, dtype: model.dtype,
                        seed: model.seed))
    }
}
