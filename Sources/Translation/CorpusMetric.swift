/// A corpus score sacreBLEU's way: per-sentence sufficient statistics, summed over the corpus,
/// then one score from the sums (never a mean of sentence scores). BLEU and chrF share the
/// summing; paired bootstrap resampling sums the same statistics over each resample.
public protocol CorpusMetric {
    /// The length of a sentence's statistics.
    static var statisticsCount: Int { get }
    /// One sentence's statistics against its references.
    static func statistics(hypothesis: String, references: [String]) -> [Int]
    /// The score of summed statistics.
    static func compute(statistics: [Int]) -> Self
}

extension CorpusMetric {
    public static func corpus(hypotheses: [String], references: [String]) -> Self {
        corpus(hypotheses: hypotheses, referenceStreams: [references])
    }

    /// With several references, each stream line-aligned with the hypotheses.
    public static func corpus(hypotheses: [String], referenceStreams: [[String]]) -> Self {
        precondition(!referenceStreams.isEmpty && referenceStreams.allSatisfy { $0.count == hypotheses.count },
                     "\(hypotheses.count) hypotheses for reference streams of \(referenceStreams.map(\.count)) lines")
        var sums = [Int](repeating: 0, count: statisticsCount)
        for (i, hypothesis) in hypotheses.enumerated() {
            let sentence = statistics(hypothesis: hypothesis, references: referenceStreams.map { $0[i] })
            for k in sums.indices { sums[k] += sentence[k] }
        }
        return compute(statistics: sums)
    }
}
