import Reversible
import TensorCore

/// A sentence's logits and gradients do not depend on what else shares its batch: its
/// logits alone equal its logits inside a ragged batch, and the batch's token-weighted
/// gradient equals the sum of each sentence's own (N·g_batch = Σ Nᵢ·gᵢ, the loss being a
/// mean over target tokens). A mask that lets padding or another sentence in — in the
/// encoder, the decoder or cross-attention — or a reduction that drops a row breaks one
/// or the other. Run in Float64 without dropout (its masks follow the batch's layout), so
/// the only difference allowed is rounding from a different BLAS blocking.
public enum PaddingInvariance {
    public struct Result: Sendable, Codable {
        public let sentences: Int
        /// Largest |logit(batch) - logit(alone)| / max |logit| over real positions.
        public let maxLogitError: Double
        /// Largest per-tensor ||N·g_batch - Σ Nᵢ·gᵢ|| / max(||N·g_batch||, floor).
        public let maxGradientError: Double
        public let worstTensor: String
        public let limit: Double
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case sentences, limit, passed
            case maxLogitError = "max_logit_error", maxGradientError = "max_gradient_error", worstTensor = "worst_tensor"
        }
    }

    /// `model` must be Float64 with dropout 0; `batch` ragged.
    public static func run(_ model: ReversibleTransformer, batch: Seq2SeqBatch, mode: BackpropMode, limit: Double,
                           floorFraction: Double) -> Result {
        run(names: model.parameters.map(\.name), batch: batch, vocabulary: model.config.targetVocabulary, limit: limit,
            floorFraction: floorFraction, logits: { model.decoderLogits($0).scalars }, gradients: { batch in
                model.zeroGradients()
                defer { model.zeroGradients() }
                model.trainingStep(batch, mode: mode, dropoutKey: 0)
                return model.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }
            })
    }

    /// Any model, through its decoder logits [B, T, V] and the gradients of one step (in
    /// the order of `names`), both without dropout.
    public static func run(names: [String], batch: Seq2SeqBatch, vocabulary: Int, limit: Double, floorFraction: Double,
                           logits: (Seq2SeqBatch) -> [Double], gradients: (Seq2SeqBatch) -> [[Double]]) -> Result {
        let together = logits(batch)
        var logitError = 0.0
        var summed: [[Double]]?
        for i in 0..<batch.batchSize {
            let alone = SyntheticBatch.sentence(i, of: batch)
            let own = logits(alone)
            let scale = own.map(abs).max() ?? 0
            for position in 0..<batch.targetLengths[i] {
                let inBatch = (i * batch.targetLength + position) * vocabulary
                let single = position * vocabulary
                for v in 0..<vocabulary {
                    // NaN must stay (Swift's max would drop it).
                    let e = abs(together[inBatch + v] - own[single + v]) / max(scale, .leastNormalMagnitude)
                    if e.isNaN || e > logitError { logitError = e }
                }
            }
            let weight = Double(alone.targetTokens)
            let weighted = gradients(alone).map { $0.map { weight * $0 } }
            summed = summed.map { zip($0, weighted).map { zip($0, $1).map(+) } } ?? weighted
        }
        let weight = Double(batch.targetTokens)
        let batched = gradients(batch).map { $0.map { weight * $0 } }
        let rows = Verification.compareGradients(names: names, tested: summed ?? batched, full: batched,
                                                 tolerance: limit, floorFraction: floorFraction)
        let worst = rows.max { $0.scaledError < $1.scaledError }
        let gradientError = rows.map(\.scaledError).maxOrNaN
        return Result(sentences: batch.batchSize, maxLogitError: logitError, maxGradientError: gradientError,
                      worstTensor: worst?.name ?? "", limit: limit,
                      passed: logitError <= limit && gradientError <= limit)
    }
}
