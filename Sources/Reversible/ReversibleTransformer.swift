import Foundation
import Ops
import TensorCore

/// A reversible encoder-decoder: the search super-network (every op mixed at every node)
/// or a derived model (one op per node), trained with any `BackpropMode`.
public final class ReversibleTransformer {
    public let config: ModelConfig
    public let sourceEmbedding: FactorisedEmbedding
    public let targetEmbedding: FactorisedEmbedding
    public let encoder: [ReversibleLayer]
    public let decoder: [ReversibleLayer]
    /// Output head: LayerNorm(d), Linear d -> e, then the target embedding transposed (tied).
    let outputNormGain: Tensor
    let outputNormBias: Tensor
    let outputProjection: Tensor
    /// Observes layer inputs (stored and reconstructed); nil unless a verifier attaches.
    public weak var trace: ReversibleTrace?
    /// Where the ops came from, and the faults built in: a copy is built the same way.
    public let registry: OpRegistry
    package let faults: InjectedFaults

    public convenience init(_ config: ModelConfig, registry: OpRegistry = .standard) throws {
        try self.init(config, registry: registry, faults: [])
    }

    /// With deliberate faults (mutation tests; not public API).
    package init(_ config: ModelConfig, registry: OpRegistry = .standard, faults: InjectedFaults) throws {
        let problems = config.validate(registry: registry)
        guard problems.isEmpty else { throw ModelError.invalidConfig(problems) }
        self.config = config
        self.registry = registry
        self.faults = faults
        var rng = RandomState(seed: config.seed)
        let d = config.modelWidth, e = config.embeddingWidth, dtype = config.dtype
        sourceEmbedding = FactorisedEmbedding(vocabulary: config.sourceVocabulary, embeddingWidth: e, modelWidth: d, dtype: dtype, rng: &rng)
        targetEmbedding = FactorisedEmbedding(vocabulary: config.targetVocabulary, embeddingWidth: e, modelWidth: d, dtype: dtype, rng: &rng)
        let n = config.splits
        var encoderLayers: [ReversibleLayer] = []
        for i in 0..<config.encoderLayers {
            let spec = OpSpec(channels: d / n, modelWidth: d, heads: config.heads, causal: false, dtype: dtype, wrap: config.wrap, faults: faults)
            let nodes = try config.nodeOps(decoder: false, layer: i, registry: registry).map {
                try NodeFunction(opNames: $0, pooling: config.pooling, mixture: config.mixture, spec: spec, registry: registry, rng: &rng)
            }
            encoderLayers.append(ReversibleLayer(name: "layer\(i + 1)", functions: nodes, faults: faults))
        }
        var decoderLayers: [ReversibleLayer] = []
        for i in 0..<config.decoderLayers {
            let spec = OpSpec(channels: d / (n + 1), modelWidth: d, heads: config.heads, causal: true, dtype: dtype, wrap: config.wrap, faults: faults)
            var nodes = try config.nodeOps(decoder: true, layer: i, registry: registry).map {
                try NodeFunction(opNames: $0, pooling: config.pooling, mixture: config.mixture, spec: spec, registry: registry, rng: &rng)
            }
            nodes.append(try NodeFunction(opNames: ["cross_attn"], pooling: config.pooling, spec: spec, registry: registry, rng: &rng))
            decoderLayers.append(ReversibleLayer(name: "layer\(i + 1)", functions: nodes, faults: faults))
        }
        encoder = encoderLayers
        decoder = decoderLayers
        outputNormGain = .parameter(filled: 1, shape: [d], dtype: dtype)
        outputNormBias = .parameter(filled: 0, shape: [d], dtype: dtype)
        outputProjection = .parameter(xavier: [e, d], fanIn: d, fanOut: e, dtype: dtype, rng: &rng)
        parameters = listParameters()
        alphas = parameters.filter { $0.name.hasSuffix(".alpha") }
    }

    /// Every trainable tensor with a dotted name (`encoder.layer1.split2.conv5.conv.weight`).
    /// Every named weight, listed once when the model is built (the tensors never change,
    /// and a search step asks for the list several times: rebuilding its thousands of names
    /// was a fifth of a dry-run search step).
    public private(set) var parameters: [(name: String, tensor: Tensor)] = []

    /// Architecture weights: one alpha per mixed node, named as in `parameters`.
    public private(set) var alphas: [(name: String, tensor: Tensor)] = []

    private func listParameters() -> [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = []
        all += sourceEmbedding.parameters.map { ("encoder.\($0.name)", $0.tensor) }
        for layer in encoder { all += layer.parameters.map { ("encoder.\(layer.name).\($0.name)", $0.tensor) } }
        all += targetEmbedding.parameters.map { ("decoder.\($0.name)", $0.tensor) }
        for layer in decoder { all += layer.parameters.map { ("decoder.\(layer.name).\($0.name)", $0.tensor) } }
        all += [("decoder.output_norm.weight", outputNormGain), ("decoder.output_norm.bias", outputNormBias),
                ("decoder.output_projection.weight", outputProjection)]
        return all
    }

    /// The same architecture in `dtype` (with `dropout`, if given), from the same registry
    /// and faults, holding this model's weights (Float32 values widened exactly): the
    /// verifier's Float64 twin.
    public func copy(dtype: DType, dropout: Double? = nil) throws -> ReversibleTransformer {
        var changed = config
        changed.dtype = dtype
        if let dropout { changed.dropout = dropout }
        let copy = try ReversibleTransformer(changed, registry: registry, faults: faults)
        copyValues(of: parameters, into: copy.parameters)
        return copy
    }

    public func zeroGradients() {
        for p in parameters { p.tensor.grad = nil }
    }

    // MARK: - Batch contexts

    /// Masks and dropout keys of one batch.
    struct BatchContext {
        let encoderBase: OpContext
        let decoderBase: OpContext
        let stepKey: UInt64
        let dropout: Double

        /// One context per split of a layer, each with its own dropout key.
        func contexts(_ stack: String, layer: ReversibleLayer, memory: Tensor?) -> [OpContext] {
            (0..<layer.splits).map { k in
                var c = stack == "encoder" ? encoderBase : decoderBase
                c.memory = memory
                c.dropoutKey = c.key(for: "\(stack).\(layer.name).split\(k + 1)")
                return c
            }
        }
    }

    func batchContext(_ batch: Seq2SeqBatch, dropoutKey: UInt64, training: Bool) -> BatchContext {
        let dtype = config.dtype
        func masks(_ lengths: [Int], _ length: Int) -> (additive: Tensor, positions: Tensor) {
            (Seq2SeqBatch.additiveMask(lengths: lengths, length: length, dtype: dtype),
             Seq2SeqBatch.positionMask(lengths: lengths, length: length, dtype: dtype))
        }
        let source = masks(batch.sourceLengths, batch.sourceLength)
        let target = masks(batch.targetLengths, batch.targetLength)
        let rate = training ? config.dropout : 0
        return BatchContext(
            encoderBase: OpContext(keyMask: source.additive, positionMask: source.positions, dropout: rate, dropoutKey: dropoutKey),
            decoderBase: OpContext(memoryMask: source.additive, keyMask: target.additive, positionMask: target.positions,
                                   dropout: rate, dropoutKey: dropoutKey),
            stepKey: dropoutKey, dropout: rate)
    }

    // MARK: - Forward pieces

    func embedSource(_ batch: Seq2SeqBatch, _ bc: BatchContext) -> Tensor {
        withScope("embedding") {
            sourceEmbedding(batch.source, batch: batch.batchSize, length: batch.sourceLength,
                            dropoutRate: bc.dropout, key: bc.encoderBase.key(for: "encoder.embedding"))
        }
    }

    func embedTarget(_ batch: Seq2SeqBatch, _ bc: BatchContext) -> Tensor {
        withScope("embedding") {
            targetEmbedding(batch.targetInput, batch: batch.batchSize, length: batch.targetLength,
                            dropoutRate: bc.dropout, key: bc.decoderBase.key(for: "decoder.embedding"))
        }
    }

    /// Decoder top [B, T, d] -> logits [B*T, V] (tied output embedding).
    public func logits(_ top: Tensor) -> Tensor {
        withScope("output") {
            let normed = layerNorm(top, gamma: outputNormGain, beta: outputNormBias)
            let projected = linear(normed, weight: outputProjection)
            let flat = reshape(projected, [-1, config.embeddingWidth])
            return linear(flat, weight: targetEmbedding.table)
        }
    }

    /// Mean label-smoothed cross-entropy over real target tokens.
    func loss(_ top: Tensor, _ batch: Seq2SeqBatch, labelSmoothing: Double) -> Tensor {
        let l = logits(top)
        return withScope("output") {
            crossEntropy(logits: l, targets: batch.targetOutput, labelSmoothing: labelSmoothing, ignoreIndex: batch.padID)
        }
    }

    /// Runs a stack forward (recorded on the current tape, if any), reporting inputs to
    /// the trace and keeping the inputs `keep` asks for.
    func runStack(_ name: String, _ layers: [ReversibleLayer], input: Tensor, _ bc: BatchContext, memory: Tensor?,
                  keep: (Int) -> Bool) -> (output: Tensor, stored: [Int: Tensor]) {
        var h = input
        var stored: [Int: Tensor] = [:]
        withScope(name) {
            for (i, layer) in layers.enumerated() {
                if let trace {
                    let splits = Runtime.current.withTape(nil) { split(h, parts: layer.splits) }
                    trace.layerInput(stack: name, layer: i + 1, splits: splits, reconstructed: false)
                }
                if keep(i) { stored[i] = h }
                h = withScope(layer.name) { layer.forward(h, bc.contexts(name, layer: layer, memory: memory)) }
            }
        }
        return (h, stored)
    }

    /// Both stacks forward: the embedded sources through the encoder, then the embedded
    /// targets through the decoder, whose cross-attention reads `memory(encoder output)`
    /// (the output itself, or a leaf a reconstruction's backward accumulates into), keeping
    /// the layer inputs `keep` asks for.
    func forwardStacks(_ batch: Seq2SeqBatch, _ bc: BatchContext, keep: (Int) -> Bool = { _ in false },
                       memory: (Tensor) -> Tensor = { $0 }) -> (encoded: (output: Tensor, stored: [Int: Tensor]), memory: Tensor,
                                                                 decoded: (output: Tensor, stored: [Int: Tensor])) {
        let source = withScope("encoder") { embedSource(batch, bc) }
        let encoded = runStack("encoder", encoder, input: source, bc, memory: nil, keep: keep)
        let memoryInput = memory(encoded.output)
        let target = withScope("decoder") { embedTarget(batch, bc) }
        let decoded = runStack("decoder", decoder, input: target, bc, memory: memoryInput, keep: keep)
        return (encoded, memoryInput, decoded)
    }

    // MARK: - Training step

    /// Forward and backward of one batch: returns the loss, leaves gradients in every
    /// parameter's `grad` (accumulating onto what is there). `dropoutKey` fixes every
    /// dropout mask of the step, so two modes given the same key see the same masks (those of
    /// the batch's rows in the global batch when it is a process's share of one).
    @discardableResult
    public func trainingStep(_ batch: Seq2SeqBatch, mode: BackpropMode, dropoutKey: UInt64, labelSmoothing: Double = 0.1) -> Double {
        Runtime.current.withBatchRows(first: batch.firstRow, count: batch.batchSize) {
            wholeTrainingStep(batch, mode: mode, dropoutKey: dropoutKey, labelSmoothing: labelSmoothing)
        }
    }

    private func wholeTrainingStep(_ batch: Seq2SeqBatch, mode: BackpropMode, dropoutKey: UInt64, labelSmoothing: Double) -> Double {
        let bc = batchContext(batch, dropoutKey: dropoutKey, training: true)
        switch mode {
        case .full:
            let runtime = Runtime.current
            let tape = Tape()
            let loss = runtime.withPhase(.forward) {
                tape.recording { () -> Tensor in
                    let top = forwardStacks(batch, bc).decoded.output
                    return withScope("decoder") { self.loss(top, batch, labelSmoothing: labelSmoothing) }
                }
            }
            runtime.withPhase(.backward) { tape.backward(loss) }
            return loss.scalarValue
        case .reconstruction, .hybrid:
            return reconstructionStep(batch, bc, mode: mode, labelSmoothing: labelSmoothing)
        }
    }

    /// Backpropagation with reconstruction over both stacks (DESIGN.md section 3): only the
    /// two top outputs (and, in hybrid mode, every k-th layer input) survive the forward.
    func reconstructionStep(_ batch: Seq2SeqBatch, _ bc: BatchContext, mode: BackpropMode, labelSmoothing: Double) -> Double {
        let runtime = Runtime.current
        // Forward, recording nothing.
        let (encoded, memoryLeaf, decoded) = runtime.withPhase(.forward) { runtime.withTape(nil) {
            // The encoder output every cross-attention reads: one leaf, so its gradient
            // accumulates over all decoder layers before the encoder's backward starts.
            forwardStacks(batch, bc, keep: mode.storesInput(ofLayer:), memory: { $0.detached(requiresGrad: true) })
        } }
        let (memoryValue, encoderStored, top, decoderStored) = (encoded.output, encoded.stored, decoded.output, decoded.stored)
        // Output head on its own tape.
        let topLeaf = top.detached(requiresGrad: true)
        let headTape = Tape()
        let loss = runtime.withPhase(.forward) {
            withScope("decoder") { headTape.recording { self.loss(topLeaf, batch, labelSmoothing: labelSmoothing) } }
        }
        return runtime.withPhase(.backward) {
            withScope("decoder") { headTape.backward(loss) }
            reconstructionBackward(batch, bc, top: top, topGradient: topLeaf.grad!, memoryValue: memoryValue, memoryLeaf: memoryLeaf,
                                   encoderStored: encoderStored, decoderStored: decoderStored)
            return loss.scalarValue
        }
    }

    /// The backward half of `reconstructionStep`: both stacks top-down, then the embeddings.
    func reconstructionBackward(_ batch: Seq2SeqBatch, _ bc: BatchContext, top: Tensor, topGradient: Tensor, memoryValue: Tensor,
                                memoryLeaf: Tensor, encoderStored: [Int: Tensor], decoderStored: [Int: Tensor]) {
        // Decoder, top-down, then its embedding from the token ids.
        let targetGradient = backwardStack("decoder", decoder, output: top, gradient: topGradient, bc, memory: memoryLeaf, stored: decoderStored)
        withScope("decoder") { backwardEmbedding(targetGradient) { embedTarget(batch, bc) } }
        // Encoder, from the accumulated gradient of its output.
        let memoryGradient = memoryLeaf.grad ?? Tensor(zeros: memoryValue.shape, dtype: memoryValue.dtype, category: .gradient)
        let sourceGradient = backwardStack("encoder", encoder, output: memoryValue, gradient: memoryGradient, bc, memory: nil, stored: encoderStored)
        withScope("encoder") { backwardEmbedding(sourceGradient) { embedSource(batch, bc) } }
    }

    /// Layer by layer from the top: each layer's reconstructed input and its gradient are
    /// the output and gradient of the layer below. Returns the gradient of the stack input.
    func backwardStack(_ name: String, _ layers: [ReversibleLayer], output: Tensor, gradient: Tensor, _ bc: BatchContext,
                       memory: Tensor?, stored: [Int: Tensor]) -> Tensor {
        var y = output, dy = gradient
        withScope(name) {
            for (i, layer) in layers.enumerated().reversed() {
                let result = withScope(layer.name) {
                    layer.backward(output: y, gradient: dy, bc.contexts(name, layer: layer, memory: memory), storedInput: stored[i])
                }
                trace?.layerInput(stack: name, layer: i + 1, splits: result.inputSplits, reconstructed: true)
                y = result.input
                dy = result.inputGradient
            }
        }
        return dy
    }

    /// Recomputes an embedding block from token ids under a tape and backpropagates `gradient`.
    func backwardEmbedding(_ gradient: Tensor, _ embed: () -> Tensor) {
        let tape = Tape()
        let out = tape.recording(embed)
        tape.backward(out, seed: gradient)
    }

    /// The loss of a batch without gradients (evaluation; finite differences).
    public func evaluateLoss(_ batch: Seq2SeqBatch, dropoutKey: UInt64, training: Bool, labelSmoothing: Double = 0.1) -> Double {
        Runtime.current.withTape(nil) { Runtime.current.withBatchRows(first: batch.firstRow, count: batch.batchSize) {
            let bc = batchContext(batch, dropoutKey: dropoutKey, training: training)
            let top = forwardStacks(batch, bc).decoded.output
            return withScope("decoder") { loss(top, batch, labelSmoothing: labelSmoothing) }.scalarValue
        } }
    }

    /// Decoder logits [B, T, V] of a batch, without gradients (causality checks, translation).
    public func decoderLogits(_ batch: Seq2SeqBatch) -> Tensor {
        Runtime.current.withTape(nil) {
            let top = forwardStacks(batch, batchContext(batch, dropoutKey: 0, training: false)).decoded.output
            return reshape(logits(top), [batch.batchSize, batch.targetLength, config.targetVocabulary])
        }
    }
}

public enum ModelError: Error, CustomStringConvertible {
    case invalidConfig([String])

    public var description: String {
        switch self {
        case .invalidConfig(let problems): "invalid model config:\n  " + problems.joined(separator: "\n  ")
        }
    }
}
