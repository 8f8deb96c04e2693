import Ops
import Reversible
import TensorCore

/// Gradient-check rows for the composites the model is built of: every candidate op of a
/// registry as a layer uses it (parametric ones inside both wrappers, LayerNorm(H + Dropout(o(H)))
/// as "op:NAME" and Dropout(o(LayerNorm(H))) as "op:NAME/pre-norm", so the wrappers, attention
/// and dynamic convolution are covered), on a ragged batch with the
/// masks the model passes, dropout on. Causal (decoder) and centred (encoder) forms; the
/// decoder form reads an encoder output through its own padding mask. A user's registry
/// gets the same rows for its own ops.
public enum CandidateOpCatalog {
    /// Shapes of every row: 2 sentences of 3 and 5 positions (padding in the first row, not
    /// the last), an encoder output of 4 and 2 positions, split width 8, 2 heads.
    static let lengths = [3, 5], length = 5, memoryLengths = [4, 2], memoryLength = 4, channels = 8, heads = 2

    /// Every op of a user's registry. Each is first built once through the registry's shape
    /// check, so a plugin returning the wrong shape is an error naming it, not a trap
    /// inside a check.
    public static func cases(registry: OpRegistry) throws -> [GradCheckCase] {
        var rng = RandomState(seed: 0)
        for entry in entries(registry) {
            for causal in forms(entry) {
                _ = try registry.make(entry.name, spec: OpSpec(channels: channels, modelWidth: 2 * channels, heads: heads, causal: causal,
                                                               dtype: .float64), rng: &rng)
            }
        }
        return uncheckedCases(registry)
    }

    /// The standard ops' cases (their shapes are tested in OpsTests).
    static var standardCases: [GradCheckCase] { uncheckedCases(.standard) }

    static func uncheckedCases(_ registry: OpRegistry) -> [GradCheckCase] {
        entries(registry).flatMap { entry in
            wraps(entry).flatMap { wrap in forms(entry).map { causal in opCase(entry, causal: causal, wrap: wrap, registry: registry) } }
        }
    }

    /// Both wrappers for a parametric op; zero and identity are not wrapped.
    static func wraps(_ entry: OpRegistry.Entry) -> [OpWrap] { entry.wrapped ? OpWrap.allCases : [.postNorm] }

    static func entries(_ registry: OpRegistry) -> [OpRegistry.Entry] { registry.names.compactMap { registry.entries[$0] } }

    /// Centred (encoder) and causal (decoder) forms; a decoder-only op has only the second.
    static func forms(_ entry: OpRegistry.Entry) -> [Bool] { entry.decoderOnly ? [true] : [false, true] }

    static func opCase(_ entry: OpRegistry.Entry, causal: Bool, wrap: OpWrap, registry: OpRegistry) -> GradCheckCase {
        let (b, t, s, c) = (lengths.count, length, memoryLength, channels)
        let d = 2 * c
        let shape = describe(("h", [b, t, c])) + (causal ? " " + describe(("memory", [b, s, d])) + " causal" : " centred")
            + " lengths \(lengths.map(String.init).joined(separator: ","))"
        // The chain: the op's projections (sums of up to 4c), attention over T and S, the
        // wrapper's layer norm (4c), and weight gradients summed over the B·T positions.
        let roundings = 30 + 8 * c + 2 * max(t, s) + 2 * b * t
        let name = "op:" + entry.name + (wrap == .postNorm ? "" : "/" + wrap.rawValue)
        return GradCheckCase(op: name, shape: shape, mode: .directional, directions: 8, roundings: roundings) { dtype, rng in
            let spec = OpSpec(channels: c, modelWidth: d, heads: heads, causal: causal, dtype: dtype, wrap: wrap)
            var weights = rng
            // Weights drawn in Float32 and copied, so both dtypes hold the same numbers.
            let single = registry.make(entry, spec: OpSpec(channels: c, modelWidth: d, heads: heads, causal: causal, dtype: .float32, wrap: wrap),
                                       rng: &weights)
            var built = rng
            let op = registry.make(entry, spec: spec, rng: &built)
            // Moved off their initial values (zero biases, unit gains): a zero bias puts a
            // ReLU exactly at its kink wherever a convolution sees only padding.
            for (_, tensor) in single.parameters {
                let p = tensor.pointer(Float.self)
                for i in 0..<tensor.count { p[i] += Float(0.1 * weights.normal()) }
            }
            rng = weights
            copyValues(of: single.parameters, into: op.parameters)
            let h = variable([b, t, c], &rng).roundedThroughFloat32().converted(keepingGradFlag: dtype)
            let memory = causal ? variable([b, s, d], &rng).roundedThroughFloat32().converted(keepingGradFlag: dtype) : nil
            let positions = Seq2SeqBatch.positionMask(lengths: lengths, length: t, dtype: dtype)
            var context = OpContext(keyMask: Seq2SeqBatch.additiveMask(lengths: lengths, length: t, dtype: dtype),
                                    positionMask: positions, dropout: 0.1, dropoutKey: 0x0d5e)
            if causal { context.memoryMask = Seq2SeqBatch.additiveMask(lengths: memoryLengths, length: s, dtype: dtype) }
            let inputs = [h] + (memory.map { [$0] } ?? []) + op.parameters.map(\.tensor)
            // Outputs at padded positions are multiplied out: the model never reads them
            // (the next op zeroes or masks them), so only what reaches a real position counts.
            return GradCheckInstance(inputs: inputs) { xs in
                var c = context
                if causal { c.memory = xs[1] }
                return mul(op.forward(xs[0], c), positions)
            }
        }
    }
}
