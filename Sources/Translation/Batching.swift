import Reversible
import TensorCore

/// A sentence pair as token ids (no BOS/EOS; the batcher adds them).
public struct TokenizedPair: Sendable {
    public let source: [Int32]
    public let target: [Int32]
    public init(source: [Int32], target: [Int32]) { self.source = source; self.target = target }
}

/// Batches by token count with length bucketing: pairs sorted by length (ties broken by a
/// seeded shuffle) are cut into batches whose padded size, sentences x longest side, stays
/// under `maxTokens`; the batch order is then shuffled with the epoch's seed. The same
/// (seed, epoch) always gives the same batches, which exact resumption relies on.
public struct TokenBatcher: Sendable {
    public let pairs: [TokenizedPair]
    public let maxTokens: Int
    public let seed: UInt64

    public init(pairs: [TokenizedPair], maxTokens: Int, seed: UInt64) {
        self.pairs = pairs
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// Pair indices of every batch of `epoch`, in training order.
    public func batches(epoch: Int) -> [[Int]] {
        var rng = RandomState(seed: RandomState.mix(seed ^ UInt64(epoch)))
        var order = Array(pairs.indices)
        order.shuffle(using: &rng)
        // A stable sort keeps the shuffled order among equal lengths.
        let length = { (i: Int) in max(pairs[i].source.count, pairs[i].target.count + 1) }
        order = order.enumerated().sorted { (a, b) in
            let (la, lb) = (length(a.element), length(b.element))
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
        var batches: [[Int]] = [], current: [Int] = [], longest = 0
        for i in order {
            let l = length(i)
            if !current.isEmpty && (current.count + 1) * max(longest, l) > maxTokens {
                batches.append(current)
                current = []
                longest = 0
            }
            current.append(i)
            longest = max(longest, l)
        }
        if !current.isEmpty { batches.append(current) }
        batches.shuffle(using: &rng)
        return batches
    }

    /// The padded batch of `indices`: decoder input BOS + y, decoder target y + EOS.
    public func batch(_ indices: [Int]) -> Seq2SeqBatch {
        Self.batch(indices.map { pairs[$0] })
    }

    public static func batch(_ pairs: [TokenizedPair], padding: (source: Int, target: Int)? = nil, firstRow: Int = 0) -> Seq2SeqBatch {
        Seq2SeqBatch(source: pairs.map(\.source), targetInput: pairs.map { [BytePairEncoding.bos] + $0.target },
                     targetOutput: pairs.map { $0.target + [BytePairEncoding.eos] }, padID: BytePairEncoding.pad,
                     padding: padding, firstRow: firstRow)
    }

    /// Process `rank`'s share of the batch `indices` when `size` processes split it: a
    /// contiguous run of its rows (with fewer rows than processes some ranks get none, never
    /// rank 0, which logs and verifies), padded to
    /// the whole batch's lengths so that every row is computed as in the whole batch. One
    /// process gets the whole batch, as `batch(_:)` builds it.
    public func share(_ indices: [Int], rank: Int, of size: Int) -> BatchShare {
        // What Seq2SeqBatch.targetTokens counts: target ids and EOS that are not padding.
        let eos = BytePairEncoding.eos != BytePairEncoding.pad ? 1 : 0
        let targetTokens = { (i: Int) in self.pairs[i].target.reduce(eos) { $1 != BytePairEncoding.pad ? $0 + 1 : $0 } }
        let total = indices.reduce(0) { $0 + targetTokens($1) }
        guard size > 1 else { return BatchShare(batch: batch(indices), weight: 1, globalTokens: total) }
        // Rounded up, so rank 0 always has a row.
        let start = { (r: Int) in (indices.count * r + size - 1) / size }
        let rows = start(rank) ..< start(rank + 1)
        guard !rows.isEmpty else { return BatchShare(batch: nil, weight: 0, globalTokens: total) }
        let padding = (source: indices.map { pairs[$0].source.count }.max() ?? 0, target: indices.map { pairs[$0].target.count + 1 }.max() ?? 0)
        let mine = indices[rows]
        let tokens = mine.reduce(0) { $0 + targetTokens($1) }
        return BatchShare(batch: Self.batch(mine.map { pairs[$0] }, padding: padding, firstRow: rows.lowerBound),
                          weight: total > 0 ? Double(tokens) / Double(total) : 0, globalTokens: total)
    }
}

/// One process's rows of a global batch and what its loss weighs: losses are means over
/// target tokens, so the global batch's mean is the shares' means weighted by their token
/// fractions, and so is its gradient.
public struct BatchShare: Sendable {
    /// This process's rows; nil when it has none.
    public let batch: Seq2SeqBatch?
    /// Its target tokens over the global batch's.
    public let weight: Double
    /// Target tokens of the global batch.
    public let globalTokens: Int

    init(batch: Seq2SeqBatch?, weight: Double, globalTokens: Int) {
        self.batch = batch; self.weight = weight; self.globalTokens = globalTokens
    }

    /// A whole batch, one process's.
    public init(whole batch: Seq2SeqBatch) {
        self.init(batch: batch, weight: 1, globalTokens: batch.targetTokens)
    }
}
