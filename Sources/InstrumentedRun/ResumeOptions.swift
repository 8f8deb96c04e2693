import Translation

/// What a resumed run was given again, against what its checkpoint recorded: each option
/// given with another value is named in one refusal, so a resume never silently ignores
/// (or silently applies) a different model or optimisation.
public enum ResumeOptions {
    /// `given`: (option, the value given or nil, the recorded value), all as text.
    public static func refuseDifferences(_ given: [(option: String, value: String?, recorded: String)], checkpoint path: String, kind: String) throws {
        let differing = given.compactMap { option, value, recorded in
            value.flatMap { $0 == recorded ? nil : "--\(option) \($0) (the run has \(recorded))" }
        }
        guard differing.isEmpty else {
            throw InputError("\(path): a resumed \(kind) keeps its model and options, but " + differing.joined(separator: ", ")
                           + "; drop these options to continue the run, or start a new one with another --out")
        }
    }

    /// `--vocab` on a resume must be the run's own vocabulary: the same pieces and merges.
    /// Not the same bytes: a run keeps the vocabulary it was given as it saves it, and files
    /// written before vocabularies sorted their keys hold the same content in another order.
    public static func refuseOtherVocabulary(_ vocab: String?, run: String) throws {
        let own = "\(run)/vocab.json"
        guard let vocab, let runs = try CorpusFingerprint.file(own), try CorpusFingerprint.file(vocab) != runs else { return }
        let (given, kept) = (try BytePairEncoding.load(vocab), try BytePairEncoding.load(own))
        guard given.pieces != kept.pieces || !given.merges.elementsEqual(kept.merges, by: ==) else { return }
        throw InputError("\(vocab): --resume with a vocabulary other than the run's \(own); drop --vocab to continue the run")
    }
}
