import TensorCore

/// One candidate op's inputs, weights, outputs and gradients, named for the safetensors
/// test-vector files (`revsearch dump-ops`) that other frameworks check against. Names and
/// layouts are PyTorch's: Linear [out, in] applied as x Wᵀ + b, Conv1d [out, in, w].
public struct OpTestVectors {
    public let fileName: String
    public let tensors: [(name: String, tensor: Tensor)]
    public let metadata: [String: String]

    /// Op names whose causal (decoder) form differs from the centred (encoder) one.
    public static func hasCausalForm(_ op: String) -> Bool {
        op.hasPrefix("conv") || op.hasPrefix("dynconv") || op == "self_attn"
    }

    /// Conv and dynconv widths, from the op name.
    static func width(of op: String) -> Int? {
        for prefix in ["dynconv", "conv"] where op.hasPrefix(prefix) { return Int(op.dropFirst(prefix.count)) }
        return nil
    }

    public struct Settings: Sendable {
        public var dtype: DType = .float64
        public var seed: UInt64 = 0
        public var length = 7
        public var channels = 16
        public var heads = 2
        /// Encoder positions of cross-attention's memory.
        public var memoryLength = 5
        public init() {}

        /// Real lengths of the padded batch's sentences: shorter than T, T, and one token, so
        /// padded rows sit at the first and last batch positions.
        public var paddedLengths: [Int] { [max(1, (length + 1) / 2), length, 1] }
        /// Real lengths of the padded batch's memories, ragged otherwise than the sentences.
        public var paddedMemoryLengths: [Int] { [memoryLength, 1, max(1, (memoryLength + 1) / 2)] }
    }

    /// The real lengths of a padded batch, from which the model builds every mask.
    public struct Padding: Sendable {
        public var lengths: [Int]
        /// Real lengths of cross-attention's memory (the source sentences).
        public var memoryLengths: [Int]

        public init(lengths: [Int], memoryLengths: [Int]) {
            self.lengths = lengths; self.memoryLengths = memoryLengths
        }

        /// The context the model gives an op (ReversibleTransformer's batch context, without
        /// dropout): key and position masks of the T positions, and for cross-attention the
        /// memory [B, S, d] with its mask over the S encoder positions.
        public func context(length: Int, memory: Tensor?, dtype: DType) -> OpContext {
            OpContext(memory: memory,
                      memoryMask: memory.map { OpContext.additiveMask(lengths: memoryLengths, length: $0.shape[1], dtype: dtype) },
                      keyMask: OpContext.additiveMask(lengths: lengths, length: length, dtype: dtype),
                      positionMask: OpContext.positionMask(lengths: lengths, length: length, dtype: dtype))
        }
    }

    /// Builds `op` (wrapped as the layer uses it), draws an input (and memory), runs forward
    /// and backward of sum(output * grad_output) on a random cotangent. `padded`: a batch of
    /// `settings.paddedLengths` sentences [B, T, c] under the model's masks, written with the
    /// file (and the lengths in the metadata, for a checker to rebuild them).
    public static func make(op: String, causal: Bool, padded: Bool = false, settings s: Settings,
                            registry: OpRegistry = .standard) throws -> OpTestVectors {
        let spec = OpSpec(channels: s.channels, modelWidth: 2 * s.channels, heads: s.heads, causal: causal, dtype: s.dtype)
        var rng = RandomState(seed: s.seed ^ stableHash(op) ^ (causal ? 0x9e37 : 0) ^ (padded ? 0x7f4a_0000 : 0))
        let built = try registry.make(op, spec: spec, rng: &rng)
        let padding = padded ? Padding(lengths: s.paddedLengths, memoryLengths: s.paddedMemoryLengths) : nil
        if padded { moveOffInitialValues(built.parameters, rng: &rng) }
        let batch = padding.map { [$0.lengths.count] } ?? []
        let input = Tensor(randomNormal: batch + [s.length, s.channels], dtype: s.dtype, rng: &rng)
        let memory = op == "cross_attn" ? Tensor(randomNormal: batch + [s.memoryLength, 2 * s.channels], dtype: s.dtype, rng: &rng) : nil
        let gradOutput = Tensor(randomNormal: batch + [s.length, s.channels], dtype: s.dtype, rng: &rng)
        let computed = run(built, input: input, memory: memory, padding: padding, gradOutput: gradOutput)
        var tensors: [(name: String, tensor: Tensor)] = [("input", input)]
        if let memory { tensors.append(("memory", memory)) }
        if let padding {
            let context = padding.context(length: s.length, memory: memory, dtype: s.dtype)
            tensors += [("key_mask", context.keyMask!), ("position_mask", context.positionMask!)]
            if let mask = context.memoryMask { tensors.append(("memory_mask", mask)) }
        }
        tensors += built.parameters.map { ("param.\($0.name)", $0.tensor.detached()) }
        tensors += [("output", computed.output), ("grad_output", gradOutput), ("grad.input", computed.gradInput)]
        if let gradMemory = computed.gradMemory { tensors.append(("grad.memory", gradMemory)) }
        tensors += computed.gradParameters.map { ("grad.param.\($0.name)", $0.tensor) }
        var metadata = [
            "op": op, "c": String(s.channels), "heads": String(s.heads), "causal": String(causal),
            "wrapped": String(registry.entries[op]!.wrapped), "eps": "1e-05", "dtype": s.dtype.rawValue,
            "seed": String(s.seed), "T": String(s.length),
        ]
        if let w = width(of: op) { metadata["width"] = String(w) }
        if memory != nil { metadata["d"] = String(2 * s.channels) }
        if let padding {
            metadata["B"] = String(padding.lengths.count)
            metadata["lengths"] = padding.lengths.map(String.init).joined(separator: ",")
            if memory != nil { metadata["memory_lengths"] = padding.memoryLengths.map(String.init).joined(separator: ",") }
        }
        let name = op + (causal ? ".causal" : "") + (padded ? ".padded" : "") + ".safetensors"
        return OpTestVectors(fileName: name, tensors: tensors, metadata: metadata)
    }

    /// Forward and backward of an op: on [T, c] inputs as a batch of one without masks, or,
    /// given `padding`, on [B, T, c] inputs (memory [B, S, d]) under the masks the model
    /// builds from its lengths.
    public static func run(_ op: CandidateOp, input: Tensor, memory: Tensor?, padding: Padding? = nil, gradOutput: Tensor)
        -> (output: Tensor, gradInput: Tensor, gradMemory: Tensor?, gradParameters: [(name: String, tensor: Tensor)]) {
        let h = input.detached(requiresGrad: true)
        let m = memory?.detached(requiresGrad: true)
        for p in op.parameters { p.tensor.grad = nil }
        let tape = Tape()
        let output = tape.recording { () -> Tensor in
            guard let padding else {
                let context = OpContext(memory: m.map { reshape($0, [1] + $0.shape) })
                return reshape(op.forward(reshape(h, [1] + input.shape), context), input.shape)
            }
            return op.forward(h, padding.context(length: input.shape[1], memory: m, dtype: input.dtype))
        }
        if output.requiresGrad { tape.backward(output, seed: gradOutput) }
        let zeros = { (t: Tensor) in Tensor(zeros: t.shape, dtype: t.dtype) }
        let grads = op.parameters.map { (name: $0.name, tensor: $0.tensor.grad ?? zeros($0.tensor)) }
        return (output.detached(), h.grad ?? zeros(h), m.map { $0.grad ?? zeros($0) }, grads)
    }

    /// Adds N(0, 0.1²) to every weight, as training would. Padding needs it: a zero conv bias
    /// puts ReLU exactly on its kink at each padded output whose window holds only padding,
    /// where finite differences and the backward legitimately disagree.
    static func moveOffInitialValues(_ parameters: [(name: String, tensor: Tensor)], rng: inout RandomState) {
        for (_, tensor) in parameters {
            let moved = add(tensor, Tensor(randomNormal: tensor.shape, std: 0.1, dtype: tensor.dtype, rng: &rng))
            tensor.buffer.raw.copyMemory(from: moved.buffer.raw, byteCount: tensor.count * tensor.dtype.size)
        }
    }

    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }
}
