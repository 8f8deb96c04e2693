import Foundation

/// Corpus BLEU exactly as sacreBLEU 2.6.0 computes it by default (`BLEU().corpus_score(hyps,
/// refs)`: 13a tokenization, case-sensitive, n-grams up to 4, 'exp' smoothing, one or more
/// references), so scores can be compared with published ones.
public struct BLEUScore: Codable, Sendable, CorpusMetric {
    public let score: Double
    /// Clipped n-gram matches and hypothesis n-gram counts, n = 1...4.
    public let counts: [Int]
    public let totals: [Int]
    public let precisions: [Double]
    public let brevityPenalty: Double
    public let hypothesisLength: Int
    public let referenceLength: Int

    enum CodingKeys: String, CodingKey {
        case score, counts, totals, precisions
        case brevityPenalty = "bp", hypothesisLength = "sys_len", referenceLength = "ref_len"
    }

    public var ratio: Double { referenceLength > 0 ? Double(hypothesisLength) / Double(referenceLength) : 0 }

    /// sacreBLEU's line: `BLEU = 30.12 61.3/36.5/23.9/15.6 (BP = 1.000 ratio = 1.012 hyp_len = 123 ref_len = 122)`.
    public var formatted: String {
        let precisionText = precisions.map { String(format: "%.1f", $0) }.joined(separator: "/")
        return String(format: "BLEU = %.2f %@ (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
                      score, precisionText, brevityPenalty, ratio, hypothesisLength, referenceLength)
    }

    /// The signature sacreBLEU prints beside the score, for `references` reference streams.
    public static func signature(references: Int) -> String {
        "nrefs:\(references)|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
    }

    /// The length of a sentence's statistics (see `statistics(hypothesis:references:)`).
    public static let statisticsCount = 10

    /// One sentence's sufficient statistics in sacreBLEU's order: the hypothesis length, the
    /// closest reference length, clipped matches for n = 1...4, hypothesis n-grams for
    /// n = 1...4. Corpus BLEU is computed from their sums, and paired bootstrap resampling
    /// sums them over each resample. With several references an n-gram's matches are clipped
    /// by its largest count in any reference, and the reference length is the closest to the
    /// hypothesis's (the shorter on a tie), as sacreBLEU does.
    public static func statistics(hypothesis: String, references: [String]) -> [Int] {
        let h = words(hypothesis)
        let references = references.map(words)
        var counts = [Int](repeating: 0, count: 4), totals = [Int](repeating: 0, count: 4)
        for n in 1...4 {
            var referenceGrams: [[[UInt32]]: Int] = [:]
            for r in references {
                for (gram, count) in ngrams(r, n) { referenceGrams[gram] = max(referenceGrams[gram] ?? 0, count) }
            }
            for (gram, count) in ngrams(h, n) {
                counts[n - 1] += min(count, referenceGrams[gram] ?? 0)
                totals[n - 1] += count
            }
        }
        return [h.count, closestLength(to: h.count, among: references.map(\.count))] + counts + totals
    }

    /// The score of summed `statistics` (in that order).
    public static func compute(statistics s: [Int]) -> BLEUScore {
        compute(counts: Array(s[2..<6]), totals: Array(s[6..<10]), hypothesisLength: s[0], referenceLength: s[1])
    }

    /// The reference length closest to `length`, the shorter on a tie (sacreBLEU's 'closest').
    static func closestLength(to length: Int, among lengths: [Int]) -> Int {
        var best = -1, bestDifference = -1
        for candidate in lengths {
            let difference = abs(length - candidate)
            if bestDifference == -1 || difference < bestDifference || (difference == bestDifference && candidate < best) {
                best = candidate
                bestDifference = difference
            }
        }
        return best
    }

    /// sacreBLEU's `compute_bleu` with 'exp' smoothing: an order with no match gets
    /// precision 100 / (2^k · total), k counting such orders; the score is 0 if nothing matches.
    static func compute(counts: [Int], totals: [Int], hypothesisLength: Int, referenceLength: Int) -> BLEUScore {
        let bp = brevityPenalty(hypothesisLength: hypothesisLength, referenceLength: referenceLength)
        let precisions = smoothedPrecisions(counts: counts.map(Double.init), totals: totals.map(Double.init))
        return BLEUScore(score: score(brevityPenalty: bp, precisions: precisions), counts: counts, totals: totals,
                         precisions: precisions, brevityPenalty: bp, hypothesisLength: hypothesisLength, referenceLength: referenceLength)
    }

    static func brevityPenalty(hypothesisLength: Int, referenceLength: Int) -> Double {
        guard hypothesisLength < referenceLength else { return 1 }
        return hypothesisLength > 0 ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
    }

    /// The n-gram precisions (0 past the first order with no n-gram), in `T` because sacreBLEU
    /// computes them in the type of its statistics: Python's floats for a corpus (`Double`),
    /// numpy's float32 sums in paired bootstrap resampling (`Float`, rounding as it does).
    static func smoothedPrecisions<T: BinaryFloatingPoint>(counts: some Collection<T>, totals: some Collection<T>) -> [T] {
        var precisions = [T](repeating: 0, count: 4)
        guard counts.contains(where: { $0 > 0 }) else { return precisions }
        var smooth: T = 1
        for (n, (count, total)) in zip(counts, totals).enumerated() {
            if total == 0 { break }
            if count == 0 {
                smooth *= 2
                precisions[n] = 100 / (smooth * total)
            } else {
                precisions[n] = 100 * count / total
            }
        }
        return precisions
    }

    /// The geometric mean of the precisions times the brevity penalty, 0 if nothing matches.
    static func score<T: BinaryFloatingPoint>(brevityPenalty: Double, precisions: [T]) -> Double {
        guard precisions.contains(where: { $0 > 0 }) else { return 0 }
        // sacreBLEU's my_log floors log(0) at -9999999999.
        return brevityPenalty * exp(precisions.map { $0 == 0 ? -9_999_999_999 : log(Double($0)) }.reduce(0, +) / 4)
    }

    /// Tokens as code-point arrays: Python compares strings by code points, Swift's String
    /// by canonical equivalence, which would merge composed and decomposed accents.
    static func words(_ sentence: String) -> [[UInt32]] {
        Tokenizer13a.pythonSplit(Tokenizer13a.tokenize(pythonRstrip(sentence))).map { $0.unicodeScalars.map(\.value) }
    }

    static func ngrams(_ tokens: [[UInt32]], _ n: Int) -> [[[UInt32]]: Int] {
        var grams: [[[UInt32]]: Int] = [:]
        if tokens.count >= n {
            for i in 0...(tokens.count - n) { grams[Array(tokens[i..<(i + n)]), default: 0] += 1 }
        }
        return grams
    }

    /// Python's `str.rstrip()`.
    static func pythonRstrip(_ s: String) -> String {
        var scalars = Array(s.unicodeScalars)
        while let last = scalars.last, Tokenizer13a.isPythonWhitespace(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
