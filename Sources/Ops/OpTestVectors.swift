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
    }

    /// Builds `op` (wrapped as the layer uses it), draws an input (and memory), runs forward
    /// and backward of sum(output * grad_output) on a random cotangent.
    public static func make(op: String, causal: Bool, settings s: Settings, registry: OpRegistry = .standard) throws -> OpTestVectors {
        let spec = OpSpec(channels: s.channels, modelWidth: 2 * s.channels, heads: s.heads, causal: causal, dtype: s.dtype)
        var rng = RandomState(seed: s.seed ^ stableHash(op) ^ (causal ? 0x9e37 : 0))
        let built = try registry.make(op, spec: spec, rng: &rng)
        let input = Tensor(randomNormal: [s.length, s.channels], dtype: s.dtype, rng: &rng)
        let memory = op == "cross_attn" ? Tensor(randomNormal: [s.memoryLength, 2 * s.channels], dtype: s.dtype, rng: &rng) : nil
        let gradOutput = Tensor(randomNormal: [s.length, s.channels], dtype: s.dtype, rng: &rng)
        let computed = run(built, input: input, memory: memory, gradOutput: gradOutput)
        var tensors: [(name: String, tensor: Tensor)] = [("input", input)]
        if let memory { tensors.append(("memory", memory)) }
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
        return OpTestVectors(fileName: op + (causal ? ".causal" : "") + ".safetensors", tensors: tensors, metadata: metadata)
    }

    /// Forward and backward of an op on [T, c] inputs (a batch of one).
    public static func run(_ op: CandidateOp, input: Tensor, memory: Tensor?, gradOutput: Tensor)
        -> (output: Tensor, gradInput: Tensor, gradMemory: Tensor?, gradParameters: [(name: String, tensor: Tensor)]) {
        let h = input.detached(requiresGrad: true)
        let m = memory?.detached(requiresGrad: true)
        for p in op.parameters { p.tensor.grad = nil }
        let tape = Tape()
        let output = tape.recording { () -> Tensor in
            let batched = reshape(h, [1] + input.shape)
            let context = OpContext(memory: m.map { reshape($0, [1] + $0.shape) })
            return reshape(op.forward(batched, context), input.shape)
        }
        if output.requiresGrad { tape.backward(output, seed: gradOutput) }
        let zeros = { (t: Tensor) in Tensor(zeros: t.shape, dtype: t.dtype) }
        let grads = op.parameters.map { (name: $0.name, tensor: $0.tensor.grad ?? zeros($0.tensor)) }
        return (output.detached(), h.grad ?? zeros(h), m.map { $0.grad ?? zeros($0) }, grads)
    }

    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }
}
