import TensorCore

/// Builds candidate ops by name. `OpRegistry.standard` holds the 14 ops of DESIGN.md
/// section 4; a user copies it and registers more without editing the core:
///
///     var registry = OpRegistry.standard
///     registry.register("my_op") { spec, rng in MyOp(spec, &rng) }
public struct OpRegistry: Sendable {
    public typealias Factory = @Sendable (OpSpec, inout RandomState) -> CandidateOp

    public struct Entry: Sendable {
        public let name: String
        /// Parametric ops are wrapped (`OpWrap`: LayerNorm(H + o(H)) by default); zero and identity are not.
        public let wrapped: Bool
        /// Only meaningful in the decoder (cross-attention needs an encoder output).
        public let decoderOnly: Bool
        let make: Factory
    }

    public private(set) var entries: [String: Entry] = [:]
    /// Names in registration order (the order of alpha entries in a mixed op).
    public private(set) var names: [String] = []

    public init() {}

    public mutating func register(_ name: String, wrapped: Bool = true, decoderOnly: Bool = false, make: @escaping Factory) {
        if entries[name] == nil { names.append(name) }
        entries[name] = Entry(name: name, wrapped: wrapped, decoderOnly: decoderOnly, make: make)
    }

    /// The candidate names for a node: every op, minus decoder-only ones in the encoder.
    public func candidates(decoder: Bool) -> [String] {
        names.filter { decoder || !entries[$0]!.decoderOnly }
    }

    /// Builds `name` for `spec`, wrapped as `spec.wrap` says when the op is parametric.
    /// The op is first run once on a small probe batch: a plugin whose output does not have
    /// its input's shape [B, T, c] is an error naming it, not a trap deep in a layer.
    public func make(_ name: String, spec: OpSpec, rng: inout RandomState) throws -> CandidateOp {
        guard let entry = entries[name] else {
            throw OpError.unknownOp(name, known: names)
        }
        let op = entry.make(spec, &rng)
        try Self.checkShape(of: op, name: name, spec: spec)
        return entry.wrapped ? WrappedOp(op, spec: spec) : op
    }

    /// Builds a registered entry, wrapped when parametric, its shape unchecked: for the
    /// verifier's catalogue, which checks each entry once through `make(_:spec:rng:)`.
    package func make(_ entry: Entry, spec: OpSpec, rng: inout RandomState) -> CandidateOp {
        let op = entry.make(spec, &rng)
        return entry.wrapped ? WrappedOp(op, spec: spec) : op
    }

    /// Runs `op` on zeros h [2, 3, c] with a memory [2, 4, d] and all-real masks, recording
    /// nothing, and compares the output's shape with h's.
    static func checkShape(of op: CandidateOp, name: String, spec: OpSpec) throws {
        let (b, t, s) = (2, 3, 4)
        let h = Tensor(zeros: [b, t, spec.channels], dtype: spec.dtype)
        let context = OpContext(memory: Tensor(zeros: [b, s, spec.modelWidth], dtype: spec.dtype),
                                memoryMask: Tensor(zeros: [b, 1, 1, s], dtype: spec.dtype), keyMask: Tensor(zeros: [b, 1, 1, t], dtype: spec.dtype),
                                positionMask: Tensor(repeating: 1, shape: [b, t, 1], dtype: spec.dtype))
        let output = Runtime.current.withTape(nil) { op.forward(h, context) }
        guard output.shape == h.shape, output.dtype == h.dtype else {
            throw OpError.wrongShape(name, input: h.shape, output: output.shape, dtype: output.dtype == h.dtype ? nil : output.dtype)
        }
    }
}

public enum OpError: Error, CustomStringConvertible {
    case unknownOp(String, known: [String])
    case wrongShape(String, input: [Int], output: [Int], dtype: DType?)

    public var description: String {
        switch self {
        case .unknownOp(let name, let known):
            "unknown op '\(name)'; registered ops: \(known.joined(separator: ", "))"
        case .wrongShape(let name, let input, let output, let dtype):
            "op '\(name)': given h \(input) it returned \(output)\(dtype.map { " in \($0)" } ?? ""); a candidate op must return its input's shape [B, T, c] and dtype"
        }
    }
}

/// How every parametric op is used inside G_k: LayerNorm(H + Dropout(o(H))) (post-norm) or
/// Dropout(o(LayerNorm(H))) (pre-norm), as `OpWrap` describes.
public final class WrappedOp: CandidateOp {
    public let inner: CandidateOp
    public let wrap: OpWrap
    let gamma: Tensor
    let beta: Tensor

    init(_ inner: CandidateOp, spec: OpSpec) {
        self.inner = inner
        wrap = spec.wrap
        gamma = .parameter(filled: 1, shape: [spec.channels], dtype: spec.dtype)
        beta = .parameter(filled: 0, shape: [spec.channels], dtype: spec.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        inner.parameters + [("norm.weight", gamma), ("norm.bias", beta)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        wrapped(h, context) { inner.forward($0, context) }
    }

    /// Layer norm is per position, so a pre-norm op's step normalises the newest position alone.
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        wrapped(h, context) { inner.decodeStep($0, context, cache: &cache) }
    }

    func wrapped(_ h: Tensor, _ context: OpContext, _ op: (Tensor) -> Tensor) -> Tensor {
        func dropped(_ o: Tensor) -> Tensor {
            context.dropout > 0 ? dropout(o, rate: context.dropout, key: context.key(for: "residual")) : o
        }
        switch wrap {
        case .postNorm: return layerNorm(add(h, dropped(op(h))), gamma: gamma, beta: beta)
        case .preNorm: return dropped(op(layerNorm(h, gamma: gamma, beta: beta)))
        }
    }
}
