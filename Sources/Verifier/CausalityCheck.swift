import Reversible
import TensorCore

/// Decoder causality: changing the target token at position p must leave the logits of
/// every earlier position exactly as they were.
public enum CausalityCheck {
    public struct Result: Sendable, Codable {
        /// Largest change of an earlier position's logits.
        public let maxLeak: Double
        public let positionsChecked: Int
        public let passed: Bool

        public init(maxLeak: Double, positionsChecked: Int, passed: Bool) {
            self.maxLeak = maxLeak; self.positionsChecked = positionsChecked; self.passed = passed
        }

        enum CodingKeys: String, CodingKey {
            case maxLeak = "max_leak", positionsChecked = "positions_checked", passed
        }
    }

    public static func run(_ model: ReversibleTransformer, batch: Seq2SeqBatch) -> Result {
        run(batch: batch, vocabulary: model.config.targetVocabulary) { model.decoderLogits($0).scalars }
    }

    /// Any model, through its decoder logits [B, T, V] without dropout.
    public static func run(batch: Seq2SeqBatch, vocabulary v: Int, logits: (Seq2SeqBatch) -> [Double]) -> Result {
        let reference = logits(batch)
        let t = batch.targetLength
        var maxLeak = 0.0, checked = 0
        for p in 1..<max(t, 1) {
            var inputs = (0..<batch.batchSize).map { Array(batch.targetInput[($0 * t)..<($0 * t + batch.targetLengths[$0])]) }
            var changed = false
            for b in 0..<batch.batchSize where p < inputs[b].count {
                // Another id inside the vocabulary (a vocabulary of 4 has one sentence token, 3; EOS, 2, serves then).
                inputs[b][p] = inputs[b][p] == 3 ? (v > 4 ? 4 : 2) : 3
                changed = true
            }
            if !changed { continue }
            let outputs = (0..<batch.batchSize).map { Array(batch.targetOutput[($0 * t)..<($0 * t + batch.targetLengths[$0])]) }
            let sources = (0..<batch.batchSize).map { Array(batch.source[($0 * batch.sourceLength)..<($0 * batch.sourceLength + batch.sourceLengths[$0])]) }
            let perturbed = logits(Seq2SeqBatch(source: sources, targetInput: inputs, targetOutput: outputs, padID: batch.padID))
            for b in 0..<batch.batchSize {
                for position in 0..<min(p, batch.targetLengths[b]) {
                    let base = (b * t + position) * v
                    for i in base..<(base + v) {
                        // NaN must stay (Swift's max would drop it).
                        let leak = abs(perturbed[i] - reference[i])
                        if leak.isNaN || leak > maxLeak { maxLeak = leak }
                    }
                    checked += 1
                }
            }
        }
        // A batch whose targets are all one token long checks nothing, and passes nothing.
        return Result(maxLeak: maxLeak, positionsChecked: checked, passed: checked > 0 && maxLeak == 0)
    }
}
