import Foundation

/// Corpus chrF exactly as sacreBLEU 2.6.0's default CHRF computes it: character n-grams of
/// orders 1-6 over code points with white space removed, statistics summed over the corpus
/// (per sentence those of the reference with the best sentence F-score), then F-beta (beta 2)
/// of the precision and recall averaged over the orders that occur.
public struct ChrFScore: Codable, Sendable, CorpusMetric {
    public let score: Double

    public var formatted: String { String(format: "chrF2 = %.2f", score) }

    static let order = 6

    /// The signature sacreBLEU prints beside the score, for `references` reference streams.
    public static func signature(references: Int) -> String {
        "nrefs:\(references)|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
    }

    public static func compute(statistics: [Int]) -> ChrFScore { ChrFScore(score: score(statistics)) }

    /// The length of a sentence's statistics: [hypothesis n-grams, reference n-grams, matches] per order.
    public static let statisticsCount = 3 * order

    /// One sentence's statistics against the first reference with the best sentence F-score
    /// (sacreBLEU starts below 0, so one always wins): corpus chrF is computed from their
    /// sums, and paired bootstrap resampling sums them over each resample.
    public static func statistics(hypothesis: String, references: [String]) -> [Int] {
        let h = characters(hypothesis)
        let hypothesisGrams = (1...order).map { ngrams(h, $0) }
        var best: [Int] = [], bestScore = -1.0
        for reference in references {
            let sentence = segmentStatistics(hypothesisGrams, characters(reference))
            let score = score(sentence)
            if score > bestScore { (best, bestScore) = (sentence, score) }
        }
        return best
    }

    /// chrF of integer statistics, as sacreBLEU computes it from Python's ints.
    static func score(_ statistics: [Int]) -> Double { fScore(statistics.map(Double.init)) ?? 0 }

    /// [hypothesis n-grams, reference n-grams, matches] per order of one sentence pair.
    static func segmentStatistics(_ hypothesisGrams: [[[UInt32]: Int]], _ reference: [UInt32]) -> [Int] {
        var statistics: [Int] = []
        for n in 1...order {
            let referenceGrams = ngrams(reference, n)
            var matches = 0, hypothesisCount = 0
            for (gram, count) in hypothesisGrams[n - 1] {
                hypothesisCount += count
                matches += min(count, referenceGrams[gram] ?? 0)
            }
            // sacreBLEU does not count hypothesis n-grams of an order the reference lacks.
            statistics += [referenceGrams.isEmpty ? 0 : hypothesisCount, referenceGrams.values.reduce(0, +), matches]
        }
        return statistics
    }

    /// sacreBLEU's `_compute_f_score` (beta 2), step for step in `T` because it computes in the
    /// type of its statistics: `Double` for Python's ints, `Float` for the numpy float32 sums of
    /// paired bootstrap resampling (numpy 2 keeps float32 arithmetic float32). nil where it
    /// returns its literal 0.0 (no matches in any order that occurs): a Python float, and one
    /// among a test's resampled scores makes numpy hold all of them in float64.
    static func fScore<T: BinaryFloatingPoint>(_ statistics: [T]) -> T? {
        let factor: T = 4
        var precision: T = 0, recall: T = 0, effective = 0
        for i in 0..<order {
            let (hypothesisCount, referenceCount, matches) = (statistics[3 * i], statistics[3 * i + 1], statistics[3 * i + 2])
            if hypothesisCount > 0 && referenceCount > 0 {
                precision += matches / hypothesisCount
                recall += matches / referenceCount
                effective += 1
            }
        }
        guard effective > 0 else { return nil }
        precision /= T(effective)
        recall /= T(effective)
        guard precision + recall != 0 else { return nil }
        let score = (1 + factor) * precision * recall / (factor * precision + recall)
        return 100 * score
    }

    static func characters(_ sentence: String) -> [UInt32] {
        sentence.unicodeScalars.filter { !Tokenizer13a.isPythonWhitespace($0) }.map(\.value)
    }

    static func ngrams(_ characters: [UInt32], _ n: Int) -> [[UInt32]: Int] {
        var grams: [[UInt32]: Int] = [:]
        if characters.count >= n {
            for i in 0...(characters.count - n) { grams[Array(characters[i..<(i + n)]), default: 0] += 1 }
        }
        return grams
    }
}
