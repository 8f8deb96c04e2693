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

/// Greedy and beam search over any `TranslationModel`. Each step re-runs the decoder over
/// the whole prefix (no incremental state), sentences and hypotheses batched together.
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
        var step = 0
        while live.contains(where: { !$0.isEmpty }) {
            step += 1
            // One decoder call for every live hypothesis of every sentence.
            var rows: [Int] = [], inputs: [[Int32]] = []
            for (s, hypotheses) in live.enumerated() {
                for h in hypotheses { rows.append(s); inputs.append(h.tokens) }
            }
            let logits = model.decode(encoded.select(rows: rows), targetInput: inputs, lastPositionOnly: true)
            let v = model.targetVocabulary
            let values = logits.scalars
            var row = 0
            for s in live.indices {
                var candidates: [Hypothesis] = []
                for h in live[s] {
                    let base = row * v
                    row += 1
                    let logProbabilities = logSoftmax(values[base..<(base + v)])
                    for (token, lp) in topK(logProbabilities, k: beam + 1) {
                        candidates.append(Hypothesis(tokens: h.tokens + [Int32(token)], score: h.score + lp))
                    }
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
