import Reversible
import TensorCore

/// A seeded random batch of token ids with ragged lengths (so padding masks are
/// exercised): what the verifier and the profiler run when no corpus is given.
public enum SyntheticBatch {
    /// Ids 0 (pad), 1 (BOS), 2 (EOS) are reserved; sentence tokens are 3..<vocabulary.
    public static func make(config: ModelConfig, batchSize: Int, sourceLength: Int, targetLength: Int, seed: UInt64) -> Seq2SeqBatch {
        var rng = RandomState(seed: seed)
        func token(_ vocabulary: Int) -> Int32 { Int32(3 + Int(rng.next() % UInt64(max(vocabulary - 3, 1)))) }
        var sources: [[Int32]] = [], inputs: [[Int32]] = [], outputs: [[Int32]] = []
        for i in 0..<batchSize {
            // The first sentence has the full lengths; the others are shorter, down to 1.
            let s = i == 0 ? sourceLength : 1 + Int(rng.next() % UInt64(sourceLength))
            let t = i == 0 ? targetLength : 1 + Int(rng.next() % UInt64(targetLength))
            sources.append((0..<s).map { _ in token(config.sourceVocabulary) })
            let sentence = (0..<(t - 1)).map { _ in token(config.targetVocabulary) }
            inputs.append([1] + sentence)
            outputs.append(sentence + [2])
        }
        return Seq2SeqBatch(source: sources, targetInput: inputs, targetOutput: outputs, padID: 0)
    }
}
