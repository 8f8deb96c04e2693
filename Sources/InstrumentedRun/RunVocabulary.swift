import Foundation
import Translation

/// The vocabulary and token ids a run trains on, the same for `train`, `search` and the
/// benchmarks, so their figures are about the same data.
public enum RunVocabulary {
    /// Pairs longer than this (in subword tokens, either side) are left out of training:
    /// attention memory grows with the square of the length, and Multi30k has none.
    static let maxLength = 128

    /// RUN/vocab.json if the run has one; else `given` (copied in) or one learned on both
    /// sides of `corpus` with `merges` merges, saved as RUN/vocab.json. A process other than
    /// rank 0 of a data-parallel run only reads the file rank 0 wrote.
    public static func loadOrLearn(run: String, corpus: ParallelCorpus, given: String? = nil, merges: Int, resuming: Bool,
                                   communicator: Communicator = SingleProcess()) throws -> BytePairEncoding {
        let path = "\(run)/vocab.json"
        if FileManager.default.fileExists(atPath: path) { return try BytePairEncoding.load(path) }
        guard communicator.writesFiles else {
            throw InputError("\(path): rank \(communicator.rank) of \(communicator.size) cannot see the vocabulary rank 0 wrote; "
                             + "a data-parallel run needs --out on a file system every process shares")
        }
        guard !resuming else { throw InputError("\(run): --resume, but the run has no vocab.json") }
        let vocabulary = try given.map(BytePairEncoding.load) ?? BytePairEncoding.learn(corpus.source + corpus.target, merges: merges)
        try vocabulary.save(to: path)
        return vocabulary
    }

    /// The corpus as token ids, pairs over `maxLength` on either side left out. Fewer than
    /// `minimum` usable pairs is an error naming the files (`place`), what was read and why
    /// pairs were left out: a search needs a pair in each of its halves, a training one to
    /// train on and one to validate with.
    public static func pairs(_ corpus: ParallelCorpus, _ vocabulary: BytePairEncoding, place: String, minimum: Int, purpose: String) throws -> [TokenizedPair] {
        let all = zip(corpus.source, corpus.target).map { TokenizedPair(source: vocabulary.encode($0), target: vocabulary.encode($1)) }
        let kept = all.filter { !$0.source.isEmpty && !$0.target.isEmpty && $0.source.count <= maxLength && $0.target.count <= maxLength }
        guard kept.count >= minimum else {
            throw InputError("\(place): \(corpus.count + corpus.skippedEmpty) pairs read, \(corpus.skippedEmpty) left out for an empty line, "
                           + "\(all.count - kept.count) for more than \(maxLength) subwords on a side: \(kept.count) usable, and \(purpose) needs at least \(minimum)")
        }
        return kept
    }
}
