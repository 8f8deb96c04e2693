import Reversible
import TensorCore

/// How the sentences of a synthetic batch are laid out. A batch whose last row is always
/// the padded one hides a reduction that drops a row (its gradient is zero anyway), so the
/// verifier runs several.
public enum BatchLayout: String, Sendable, Codable, ListedCases {
    /// Ragged lengths, the full-length sentence at a random row: padding lands anywhere.
    case ragged
    /// One sentence, no padding.
    case single
    /// Every sentence full length: no padding at all.
    case unpadded
}

/// A seeded random batch of token ids: what the verifier and the profiler run when no
/// corpus is given.
public enum SyntheticBatch {
    /// The two vocabularies' sizes.
    public struct Vocabulary: Sendable {
        public let source: Int
        public let target: Int
        public init(source: Int, target: Int) { self.source = source; self.target = target }
    }

    public static func make(config: ModelConfig, batchSize: Int, sourceLength: Int, targetLength: Int, seed: UInt64,
                            layout: BatchLayout = .ragged) -> Seq2SeqBatch {
        make(vocabulary: Vocabulary(source: config.sourceVocabulary, target: config.targetVocabulary), batchSize: batchSize,
             sourceLength: sourceLength, targetLength: targetLength, seed: seed, layout: layout)
    }

    /// Ids 0 (pad), 1 (BOS), 2 (EOS) are reserved; sentence tokens are 3..<vocabulary.
    public static func make(vocabulary: Vocabulary, batchSize: Int, sourceLength: Int, targetLength: Int, seed: UInt64,
                            layout: BatchLayout = .ragged) -> Seq2SeqBatch {
        var rng = RandomState(seed: seed)
        func token(_ vocabulary: Int) -> Int32 { Int32(3 + Int(rng.next() % UInt64(max(vocabulary - 3, 1)))) }
        let size = layout == .single ? 1 : max(batchSize, 1)
        let fullRow = Int(rng.next() % UInt64(size))
        var sources: [[Int32]] = [], inputs: [[Int32]] = [], outputs: [[Int32]] = []
        for i in 0..<size {
            // Ragged: one row at the full lengths, the others shorter, down to 1.
            let full = layout != .ragged || i == fullRow
            let s = full ? sourceLength : 1 + Int(rng.next() % UInt64(sourceLength))
            let t = full ? targetLength : 1 + Int(rng.next() % UInt64(targetLength))
            sources.append((0..<s).map { _ in token(vocabulary.source) })
            let sentence = (0..<(t - 1)).map { _ in token(vocabulary.target) }
            inputs.append([1] + sentence)
            outputs.append(sentence + [2])
        }
        return Seq2SeqBatch(source: sources, targetInput: inputs, targetOutput: outputs, padID: 0)
    }

    /// Sentence `index` of `batch` alone, unpadded.
    public static func sentence(_ index: Int, of batch: Seq2SeqBatch) -> Seq2SeqBatch {
        let (s, t) = (batch.sourceLength, batch.targetLength)
        let source = Array(batch.source[(index * s)..<(index * s + batch.sourceLengths[index])])
        let input = Array(batch.targetInput[(index * t)..<(index * t + batch.targetLengths[index])])
        let output = Array(batch.targetOutput[(index * t)..<(index * t + batch.targetLengths[index])])
        return Seq2SeqBatch(source: [source], targetInput: [input], targetOutput: [output], padID: batch.padID)
    }
}
