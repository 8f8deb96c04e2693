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
        /// Parametric ops are used as LayerNorm(H + o(H)); zero and identity are not.
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

    /// Builds `name` for `spec`, wrapped as LayerNorm(H + o(H)) when the op is parametric.
    public func make(_ name: String, spec: OpSpec, rng: inout RandomState) throws -> CandidateOp {
        guard let entry = entries[name] else {
            throw OpError.unknownOp(name, known: names)
        }
        return make(entry, spec: spec, rng: &rng)
    }

    /// Builds a registered entry, wrapped when parametric.
    public func make(_ entry: Entry, spec: OpSpec, rng: inout RandomState) -> CandidateOp {
        let op = entry.make(spec, &rng)
        return entry.wrapped ? WrappedOp(op, spec: spec) : op
    }
}

public enum OpError: Error, CustomStringConvertible {
    case unknownOp(String, known: [String])

    public var description: String {
        switch self {
        case .unknownOp(let name, let known):
            "unknown op '\(name)'; registered ops: \(known.joined(separator: ", "))"
        }
    }
}

/// LayerNorm(H + Dropout(o(H))): how every parametric op is used inside G_k.
public final class WrappedOp: CandidateOp {
    public let inner: CandidateOp
    let gamma: Tensor
    let beta: Tensor

    init(_ inner: CandidateOp, spec: OpSpec) {
        self.inner = inner
        gamma = .parameter(filled: 1, shape: [spec.channels], dtype: spec.dtype)
        beta = .parameter(filled: 0, shape: [spec.channels], dtype: spec.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        inner.parameters + [("norm.weight", gamma), ("norm.bias", beta)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        var o = inner.forward(h, context)
        if context.dropout > 0 { o = dropout(o, rate: context.dropout, key: context.key(for: "residual")) }
        return layerNorm(add(h, o), gamma: gamma, beta: beta)
    }
}
