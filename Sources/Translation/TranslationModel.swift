import Reversible
import TensorCore

/// The encoder output of a batch, kept while a decoder searches.
public struct EncodedSource {
    /// [B, S, d]
    public let memory: Tensor
    /// [B, 1, 1, S] additive mask over encoder positions.
    public let mask: Tensor
    public let sourceLengths: [Int]

    /// The rows `rows` (beam search repeats each sentence once per hypothesis).
    public func select(rows: [Int]) -> EncodedSource {
        EncodedSource(memory: gatherRows(memory, rows), mask: gatherRows(mask, rows), sourceLengths: rows.map { sourceLengths[$0] })
    }
}

/// A [B, ...] tensor's rows `rows`, copied, unrecorded.
func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let rowBytes = t.count / max(t.shape[0], 1) * t.dtype.size
    let out = Tensor(uninitialized: [rows.count] + Array(t.shape.dropFirst()), dtype: t.dtype)
    for (i, r) in rows.enumerated() {
        (out.buffer.raw + i * rowBytes).copyMemory(from: t.buffer.raw + r * rowBytes, byteCount: rowBytes)
    }
    return out
}

/// x [B, T, d] -> x[:, T-1, :] as [B, 1, d], copied, unrecorded.
func lastPosition(_ x: Tensor) -> Tensor {
    let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
    let out = Tensor(uninitialized: [b, 1, d], dtype: x.dtype)
    let rowBytes = d * x.dtype.size
    for i in 0..<b {
        (out.buffer.raw + i * rowBytes).copyMemory(from: x.buffer.raw + ((i * t) + t - 1) * rowBytes, byteCount: rowBytes)
    }
    return out
}

/// What training and translation need of a model: the baseline Transformer and the
/// reversible model built from a genotype both provide it.
public protocol TranslationModel: AnyObject {
    var parameters: [(name: String, tensor: Tensor)] { get }
    var targetVocabulary: Int { get }
    /// The family and config this model was built from; a checkpoint records it so the
    /// same model can be rebuilt.
    var architecture: ModelArchitecture { get }
    /// Forward and backward of one batch; leaves gradients in the parameters; returns the loss.
    func trainingStep(_ batch: Seq2SeqBatch, dropoutKey: UInt64, labelSmoothing: Double) -> Double
    /// The mean label-smoothed loss without gradients (validation).
    func evaluateLoss(_ batch: Seq2SeqBatch, labelSmoothing: Double) -> Double
    /// Encodes the sources of `batch` (no dropout, nothing recorded).
    func encode(_ batch: Seq2SeqBatch) -> EncodedSource
    /// Logits of the decoder inputs [B, T] given the encoder output: [B, T, V] for every
    /// position, or [B, V] for the last one only (what search needs).
    func decode(_ encoded: EncodedSource, targetInput: [[Int32]], lastPositionOnly: Bool) -> Tensor
}
