import TensorCore

/// What one op keeps between the steps of incremental decoding (fairseq's incremental
/// state): named tensors whose first dimension is the hypothesis row, so beam search
/// reorders every cache the same way by picking the rows of the surviving hypotheses.
public struct DecodingCache {
    public var tensors: [String: Tensor] = [:]

    public init() {}

    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// The cache of hypotheses `rows` (a row repeats when two hypotheses extend one parent).
    public func selecting(rows: [Int]) -> DecodingCache {
        var copy = DecodingCache()
        for (name, tensor) in tensors { copy[name] = gatherRows(tensor, rows) }
        return copy
    }
}

/// A decoder's incremental state: how many positions it has read, and one cache per op
/// that decodes, in the order the model runs them.
public struct DecodingState {
    public var position = 0
    public var caches: [DecodingCache]

    public init(ops: Int) {
        caches = Array(repeating: DecodingCache(), count: ops)
    }

    /// The state of hypotheses `rows` of the last step.
    public func selecting(rows: [Int]) -> DecodingState {
        var copy = self
        copy.caches = caches.map { $0.selecting(rows: rows) }
        return copy
    }
}

extension CandidateOp {
    /// The step of any causal op: keeps every position's input and reruns `forward` over
    /// the prefix, returning its last position. Right for an op whose output at t reads
    /// inputs at positions <= t only; no cheaper than re-decoding for that op, so the
    /// standard ops override it (attention keeps keys and values, convolutions a window).
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        let prefix = concatPositions((cache["input"].map { [$0] } ?? []) + [h])
        cache["input"] = prefix
        return lastPositions(forward(prefix, context), 1)
    }

    /// The step of a causal op whose output at t reads positions t-width+1...t only (a
    /// convolution): keeps the last width-1 inputs and runs `forward` on that window.
    func slidingWindowStep(width: Int, _ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        let window = concatPositions((cache["window"].map { [$0] } ?? []) + [h])
        let kept = min(window.shape[1], width - 1)
        cache["window"] = kept > 0 ? lastPositions(window, kept) : nil
        // The window is all real positions: no padding masks to apply.
        var local = context
        local.keyMask = nil
        local.positionMask = nil
        return lastPositions(forward(window, local), 1)
    }
}
