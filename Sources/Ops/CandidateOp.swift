import TensorCore

/// A candidate operation o of the search space (DESIGN.md section 4): maps the pooled
/// split H [B, T, c] to [B, T, c]. Ops are plugins: the model core builds them by name
/// through an `OpRegistry`, so adding one never touches the core.
public protocol CandidateOp: AnyObject {
    /// Weights with PyTorch's names and layouts (`q_proj.weight` [out, in], `conv.weight` [out, in, w]).
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// H [B, T, c] -> o(H) [B, T, c], recorded on the current tape like any primitive.
    func forward(_ h: Tensor, _ context: OpContext) -> Tensor
    /// One step of incremental decoding (decoder ops only): h [B, 1, c] is the newest
    /// position, `cache` what this op kept from the earlier ones (empty at the first), and
    /// `context` describes the whole prefix as a full decode of it would see (masks of
    /// length t, every position real). Returns o(H) at that position, [B, 1, c], equal to
    /// the last position of `forward` over the prefix. A default reruns `forward` over
    /// the prefix, so a plugin need not implement it.
    func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor
}

/// What a factory needs to build an op for one node of the network.
public struct OpSpec: Sendable {
    /// Split width c = d / n: the op's input and output features.
    public var channels: Int
    /// Model width d: the width of the encoder output that cross-attention reads.
    public var modelWidth: Int
    /// Attention heads (and dynamic-convolution heads); must divide `channels`.
    public var heads: Int
    /// Decoder ops are causal: masked attention, left-padded convolutions.
    public var causal: Bool
    public var dtype: DType
    /// How a parametric op is wrapped (post-norm unless a model config says otherwise).
    public var wrap: OpWrap
    /// Deliberate faults for mutation tests (empty in a normal model; not public API).
    package var faults: InjectedFaults = []

    public init(channels: Int, modelWidth: Int, heads: Int, causal: Bool, dtype: DType, wrap: OpWrap = .postNorm) {
        self.channels = channels; self.modelWidth = modelWidth; self.heads = heads
        self.causal = causal; self.dtype = dtype; self.wrap = wrap
    }

    package init(channels: Int, modelWidth: Int, heads: Int, causal: Bool, dtype: DType, wrap: OpWrap, faults: InjectedFaults) {
        self.init(channels: channels, modelWidth: modelWidth, heads: heads, causal: causal, dtype: dtype, wrap: wrap)
        self.faults = faults
    }
}

/// Per-batch inputs an op may read besides H.
public struct OpContext {
    /// Encoder output [B, S, d] (cross-attention keys and values).
    public var memory: Tensor?
    /// Additive mask over encoder positions, [B, 1, 1, S]: 0 for real tokens, -inf for padding.
    public var memoryMask: Tensor?
    /// Additive mask over this sequence's key positions, [B, 1, 1, T].
    public var keyMask: Tensor?
    /// [B, T, 1]: 1 at real positions, 0 at padding; convolutions zero padded inputs so a
    /// sentence never sees its padding (fairseq masks the same way).
    public var positionMask: Tensor?
    /// Dropout rate inside the wrapper (0 at evaluation).
    public var dropout: Double
    /// Base key of this node's dropout masks; sites derive their own with `key(for:)`.
    /// Recomputation passes the same key, so masks replay exactly.
    public var dropoutKey: UInt64

    public init(memory: Tensor? = nil, memoryMask: Tensor? = nil, keyMask: Tensor? = nil,
                positionMask: Tensor? = nil, dropout: Double = 0, dropoutKey: UInt64 = 0) {
        self.memory = memory; self.memoryMask = memoryMask; self.keyMask = keyMask
        self.positionMask = positionMask; self.dropout = dropout; self.dropoutKey = dropoutKey
    }

    /// The dropout key of a named site inside this node (stable across runs and passes).
    public func key(for site: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in site.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return RandomState.mix(dropoutKey ^ h)
    }

    /// The same context with a different dropout key.
    public func with(dropoutKey: UInt64) -> OpContext {
        var copy = self
        copy.dropoutKey = dropoutKey
        return copy
    }
}
