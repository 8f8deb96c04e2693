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

    public static func batch(_ pairs: [TokenizedPair]) -> Seq2SeqBatch {
        Seq2SeqBatch(source: pairs.map(\.source), targetInput: pairs.map { [BytePairEncoding.bos] + $0.target },
                     targetOutput: pairs.map { $0.target + [BytePairEncoding.eos] }, padID: BytePairEncoding.pad)
    }
}
