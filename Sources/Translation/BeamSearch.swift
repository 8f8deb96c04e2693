import Foundation
import Reversible
import TensorCore

/// Decoding settings: beam 1 is greedy search.
public struct DecodingOptions: Sendable {
    public var beam = 5
    /// Hypotheses are ranked by log-probability / length^lengthPenalty (fairseq's lenpen).
    public var lengthPenalty = 1.0
    /// Output length limit: maxLengthA * source length + maxLengthB tokens.
    public var maxLengthA = 1.5
    public var maxLengthB = 10
    /// Sentences decoded together.
    public var batchSize = 32
    public init() {}
}

/// Greedy and beam search over any `TranslationModel`, sentences and hypotheses batched
/// together. The decoder runs incrementally: each step reads one new token per hypothesis
/// and its state (attention keys and values, convolution windows) is reordered with the
/// hypotheses, so a step costs one position, not the whole prefix.
public enum BeamSearch {
    /// Token ids of the best translation of each source (without BOS/EOS).
    public static func translate(_ model: TranslationModel, sources: [[Int32]], options: DecodingOptions) -> [[Int32]] {
        var results = [[Int32]](repeating: [], count: sources.count)
        // Similar lengths together: less padding in each batch.
        let order = sources.indices.sorted { sources[$0].count < sources[$1].count }
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(start + options.batchSize, order.count)])
            let outputs = translateBatch(model, sources: chunk.map { sources[$0].isEmpty ? [BytePairEncoding.eos] : sources[$0] }, options: options)
            for (i, index) in chunk.enumerated() { results[index] = outputs[i] }
            start += options.batchSize
        }
        return results
    }

    struct Hypothesis {
        var tokens: [Int32]
        var score: Double
        /// The row of the decoder batch this hypothesis was extended from.
        var parent = 0
    }

    static func translateBatch(_ model: TranslationModel, sources: [[Int32]], options: DecodingOptions) -> [[Int32]] {
        let batch = Seq2SeqBatch(source: sources, targetInput: sources.map { _ in [BytePairEncoding.bos] },
                                 targetOutput: sources.map { _ in [BytePairEncoding.eos] }, padID: BytePairEncoding.pad)
        let encoded = model.encode(batch)
        let beam = max(options.beam, 1)
        var live: [[Hypothesis]] = sources.map { _ in [Hypothesis(tokens: [BytePairEncoding.bos], score: 0)] }
        var finished: [[Hypothesis]] = sources.map { _ in [] }
        let limits = sources.map { Int(options.maxLengthA * Double($0.count)) + options.maxLengthB }
        func normalized(_ h: Hypothesis) -> Double {
            h.score / pow(Double(max(h.tokens.count - 1, 1)), options.lengthPenalty)
        }
        var state = model.startDecoding()
        // The sentence of each decoder row, and each row's newest token.
        var rows = Array(sources.indices)
        var tokens = sources.map { _ in BytePairEncoding.bos }
        while !rows.isEmpty {
            // One decoder step for every live hypothesis of every sentence.
            let logits = model.decodeStep(encoded.select(rows: rows), tokens: tokens, state: &state)
            let v = model.targetVocabulary
            let values = logits.scalars
            var row = 0
            for s in live.indices {
                var candidates: [Hypothesis] = []
                for h in live[s] {
                    let base = row * v
                    let logProbabilities = logSoftmax(values[base..<(base + v)])
                    for (token, lp) in topK(logProbabilities, k: beam + 1) {
                        candidates.append(Hypothesis(tokens: h.tokens + [Int32(token)], score: h.score + lp, parent: row))
                    }
                    row += 1
                }
                candidates.sort { $0.score > $1.score }
                var next: [Hypothesis] = []
                for c in candidates {
                    if c.tokens.last == BytePairEncoding.eos || c.tokens.count - 1 >= limits[s] {
                        if finished[s].count < beam { finished[s].append(c) }
                    } else if next.count < beam {
                        next.append(c)
                    }
                    if next.count == beam && finished[s].count >= beam { break }
                }
                // Done once `beam` hypotheses have finished (fairseq's stopping rule).
                live[s] = finished[s].count >= beam ? [] : next
            }
            // The surviving hypotheses become the next step's rows; their parents' states follow.
            let survivors = live.enumerated().flatMap { s, hypotheses in hypotheses.map { (sentence: s, hypothesis: $0) } }
            rows = survivors.map(\.sentence)
            tokens = survivors.map { $0.hypothesis.tokens.last! }
            state = state.selecting(rows: survivors.map(\.hypothesis.parent))
        }
        return finished.map { hypotheses in
            let best = hypotheses.max { normalized($0) < normalized($1) }!
            return best.tokens.dropFirst().filter { $0 != BytePairEncoding.eos }
        }
    }

    static func logSoftmax(_ x: ArraySlice<Double>) -> [Double] {
        let m = x.max() ?? 0
        let lse = m + log(x.reduce(0) { $0 + exp($1 - m) })
        return x.map { $0 - lse }
    }

    /// Indices and values of the k largest entries, largest first.
    static func topK(_ x: [Double], k: Int) -> [(Int, Double)] {
        var best: [(Int, Double)] = []
        for (i, value) in x.enumerated() where best.count < k || value > best[best.count - 1].1 {
            let at = best.firstIndex { $0.1 < value } ?? best.count
            best.insert((i, value), at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
