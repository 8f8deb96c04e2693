import Foundation
import Reversible
import Search
import Translation

/// A search's super-network and halves as its checkpoint left them, for what is measured
/// after a search (a derivation by perturbation) without running or changing it: the run
/// directory is only read.
public enum RestoredSearch {
    /// The search in `run` at its checkpoint's step, on the corpus in `data` (which must be
    /// the one the search was run on) and the run's own vocabulary.
    public static func load(run: String, data: String, source: String, target: String) throws -> BilevelSearch {
        let paths = SearchPaths(run: run)
        guard FileManager.default.fileExists(atPath: paths.checkpoint) else {
            throw InputError("\(run): no search checkpoint (\(SearchRun.checkpointName).json); expected the run directory of `revsearch search`")
        }
        let checkpoint = try SearchCheckpoint.load(paths.checkpoint)
        let corpus = try CorpusReader.load(directory: data, split: "train", source: source, target: target)
        if let recorded = checkpoint.corpusSHA256, recorded != CorpusFingerprint.pairs(corpus) {
            throw InputError("\(data) (\(source)-\(target)): not the corpus this search ran on (the pairs' SHA-256 differs from the one \(paths.checkpoint) records)")
        }
        let vocabulary = try BytePairEncoding.load("\(run)/\(checkpoint.vocabulary)")
        let pairs = try RunVocabulary.pairs(corpus, vocabulary, place: "\(data)/train.{\(source),\(target)}", minimum: 2,
                                            purpose: "a search (one pair for theta's half, one for alpha's)")
        var config = checkpoint.model
        config.sourceVocabulary = vocabulary.count
        config.targetVocabulary = vocabulary.count
        let model: ReversibleTransformer
        do { model = try ReversibleTransformer(config) } catch { throw InputError("\(paths.checkpoint): \(error)") }
        let search = try BilevelSearch(model: model, pairs: pairs, options: checkpoint.options)
        try checkpoint.restore(into: search, directory: run)
        return search
    }
}
