import Foundation

/// Corpus chrF exactly as sacreBLEU's default CHRF computes it: character n-grams of orders
/// 1-6 over code points with white space removed, statistics summed over the corpus, then
/// F-beta (beta 2) of the precision and recall averaged over the orders that occur.
public struct ChrFScore: Codable, Sendable {
    public let score: Double

    public var formatted: String { String(format: "chrF2 = %.2f", score) }

    public static func corpus(hypotheses: [String], references: [String]) -> ChrFScore {
        precondition(hypotheses.count == references.count, "\(hypotheses.count) hypotheses for \(references.count) references")
        let order = 6
        var statistics = [Int](repeating: 0, count: 3 * order)
        for (hypothesis, reference) in zip(hypotheses, references) {
            let h = characters(hypothesis), r = characters(reference)
            for n in 1...order {
                let hypothesisGrams = ngrams(h, n), referenceGrams = ngrams(r, n)
                var matches = 0, hypothesisCount = 0
                for (gram, count) in hypothesisGrams {
                    hypothesisCount += count
                    matches += min(count, referenceGrams[gram] ?? 0)
                }
                // sacreBLEU does not count hypothesis n-grams of an order the reference lacks.
                statistics[3 * (n - 1)] += referenceGrams.isEmpty ? 0 : hypothesisCount
                statistics[3 * (n - 1) + 1] += referenceGrams.values.reduce(0, +)
                statistics[3 * (n - 1) + 2] += matches
            }
        }
        return ChrFScore(score: fScore(statistics, order: order, beta: 2))
    }

    static func fScore(_ statistics: [Int], order: Int, beta: Double) -> Double {
        let factor = beta * beta
        var precision = 0.0, recall = 0.0, effective = 0
        for i in 0..<order {
            let (hypothesisCount, referenceCount, matches) = (statistics[3 * i], statistics[3 * i + 1], statistics[3 * i + 2])
            if hypothesisCount > 0 && referenceCount > 0 {
                precision += Double(matches) / Double(hypothesisCount)
                recall += Double(matches) / Double(referenceCount)
                effective += 1
            }
        }
        guard effective > 0 else { return 0 }
        precision /= Double(effective)
        recall /= Double(effective)
        guard precision + recall > 0 else { return 0 }
        return 100 * (1 + factor) * precision * recall / (factor * precision + recall)
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
