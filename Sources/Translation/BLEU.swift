import Foundation

/// Corpus BLEU exactly as sacreBLEU computes it by default (`sacrebleu.corpus_bleu(hyps,
/// [refs])`: 13a tokenization, case-sensitive, n-grams up to 4, 'exp' smoothing, one
/// reference), so scores can be compared with published ones.
public struct BLEUScore: Codable, Sendable {
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

    public static func corpus(hypotheses: [String], references: [String]) -> BLEUScore {
        precondition(hypotheses.count == references.count, "\(hypotheses.count) hypotheses for \(references.count) references")
        var counts = [Int](repeating: 0, count: 4), totals = [Int](repeating: 0, count: 4)
        var hypothesisLength = 0, referenceLength = 0
        for (hypothesis, reference) in zip(hypotheses, references) {
            let h = words(hypothesis), r = words(reference)
            hypothesisLength += h.count
            referenceLength += r.count
            for n in 1...4 {
                let hypothesisGrams = ngrams(h, n), referenceGrams = ngrams(r, n)
                for (gram, count) in hypothesisGrams {
                    counts[n - 1] += min(count, referenceGrams[gram] ?? 0)
                    totals[n - 1] += count
                }
            }
        }
        return compute(counts: counts, totals: totals, hypothesisLength: hypothesisLength, referenceLength: referenceLength)
    }

    /// sacreBLEU's `compute_bleu` with 'exp' smoothing: an order with no match gets
    /// precision 100 / (2^k · total), k counting such orders; the score is 0 if nothing matches.
    static func compute(counts: [Int], totals: [Int], hypothesisLength: Int, referenceLength: Int) -> BLEUScore {
        var bp = 1.0
        if hypothesisLength < referenceLength {
            bp = hypothesisLength > 0 ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
        }
        var precisions = [Double](repeating: 0, count: 4)
        var score = 0.0
        if counts.contains(where: { $0 > 0 }) {
            var smooth = 1.0
            for n in 0..<4 {
                if totals[n] == 0 { break }
                if counts[n] == 0 {
                    smooth *= 2
                    precisions[n] = 100 / (smooth * Double(totals[n]))
                } else {
                    precisions[n] = 100 * Double(counts[n]) / Double(totals[n])
                }
            }
            // sacreBLEU's my_log floors log(0) at -9999999999.
            score = bp * exp(precisions.map { $0 == 0 ? -9_999_999_999 : log($0) }.reduce(0, +) / 4)
        }
        return BLEUScore(score: score, counts: counts, totals: totals, precisions: precisions, brevityPenalty: bp,
                         hypothesisLength: hypothesisLength, referenceLength: referenceLength)
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
