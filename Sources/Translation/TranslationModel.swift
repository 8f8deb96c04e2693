import Ops
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
    /// position, or [B, V] for the last one only. Re-decodes the whole prefix: the
    /// reference incremental decoding is tested against.
    func decode(_ encoded: EncodedSource, targetInput: [[Int32]], lastPositionOnly: Bool) -> Tensor
    /// An empty incremental decoding state.
    func startDecoding() -> DecodingState
    /// Logits [B, V] at position `state.position` given the tokens there (one per row of
    /// `encoded`), from what `state` cached of the earlier positions; equal to the last
    /// position of `decode` over the whole prefix. Advances `state`.
    func decodeStep(_ encoded: EncodedSource, tokens: [Int32], state: inout DecodingState) -> Tensor
}
