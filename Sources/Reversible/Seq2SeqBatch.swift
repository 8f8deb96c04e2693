import Ops
import TensorCore

/// A padded batch of sentence pairs as token ids, row-major [B, S] and [B, T].
public struct Seq2SeqBatch: Sendable {
    public let batchSize: Int
    public let sourceLength: Int
    public let targetLength: Int
    /// [B, S] source ids, right-padded with `padID`.
    public let source: [Int32]
    /// [B, T] decoder inputs (BOS, y_1..y_{T-1}), right-padded.
    public let targetInput: [Int32]
    /// [B, T] decoder targets (y_1..y_T, EOS), padded with `padID` (ignored by the loss).
    public let targetOutput: [Int32]
    public let sourceLengths: [Int]
    public let targetLengths: [Int]
    public let padID: Int32
    /// The row of a larger batch this batch's first row is (0 for a whole batch): a process of
    /// a data-parallel run holds rows `firstRow ..< firstRow + batchSize` of the global batch,
    /// padded to the global batch's lengths, and draws those rows' dropout masks.
    public let firstRow: Int

    /// Rows padded to their longest, or to `padding` (a global batch's lengths) when given.
    public init(source: [[Int32]], targetInput: [[Int32]], targetOutput: [[Int32]], padID: Int32,
                padding: (source: Int, target: Int)? = nil, firstRow: Int = 0) {
        precondition(!source.isEmpty && source.count == targetInput.count && source.count == targetOutput.count,
                     "a batch needs the same positive number of sources and targets")
        batchSize = source.count
        sourceLength = max(source.map(\.count).max()!, padding?.source ?? 0)
        targetLength = max(targetInput.map(\.count).max()!, padding?.target ?? 0)
        self.firstRow = firstRow
        func pad(_ rows: [[Int32]], _ length: Int) -> [Int32] {
            rows.flatMap { $0 + Array(repeating: padID, count: length - $0.count) }
        }
        self.source = pad(source, sourceLength)
        self.targetInput = pad(targetInput, targetLength)
        self.targetOutput = pad(targetOutput, targetLength)
        sourceLengths = source.map(\.count)
        targetLengths = targetInput.map(\.count)
        self.padID = padID
    }

    /// Real (non-padding) target tokens: the loss's denominator.
    public var targetTokens: Int { targetOutput.filter { $0 != padID }.count }

    /// Additive mask [B, 1, 1, L] over one side's positions: 0 for tokens, -inf for padding
    /// (OpContext's, which the padded op test vectors use too).
    public static func additiveMask(lengths: [Int], length: Int, dtype: DType) -> Tensor {
        OpContext.additiveMask(lengths: lengths, length: length, dtype: dtype)
    }

    /// [B, L, 1]: 1 at tokens, 0 at padding (OpContext's).
    public static func positionMask(lengths: [Int], length: Int, dtype: DType) -> Tensor {
        OpContext.positionMask(lengths: lengths, length: length, dtype: dtype)
    }
}
