import ArgumentParser
import Foundation
import InstrumentedRun
import Translation

/// `revsearch evaluate`: corpus BLEU and chrF of a hypothesis file against one or more
/// reference files, identical to sacreBLEU 2.6.0's defaults and printed in its style, with
/// its signatures; with `--paired-bs`, its paired bootstrap resampling test of several systems
/// (EvaluateCommand+PairedBootstrap.swift).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Corpus BLEU (sacreBLEU's 13a, exp smoothing) and chrF of hypotheses against one or more references."
    )

    @Option(name: [.customLong("hypotheses"), .customShort("i")], parsing: .upToNextOption,
            help: "Hypotheses, one sentence a line (detokenized); - reads standard input. With --paired-bs, several: the baseline system first.")
    var hypotheses: [String]
    @Option(help: "References, line-aligned with the hypotheses (plain or gzip); repeat for several references per sentence.")
    var references: [String] = []
    @Option(help: "Corpus directory: use <data>/<split>.<tgt>[.gz] as the references.") var data: String?
    @Option(help: "With --data: the split, e.g. test_2016_flickr.") var split: String?
    @Option(help: "With --data: the target language.") var tgt: String?
    @Option(name: .customLong("json"), help: "Also write the scores as JSON to this path (-: standard output).") var jsonPath: String?
    @Flag(name: .customLong("paired-bs"), help: "sacreBLEU's paired bootstrap resampling test (--paired-bs) of each system against the first.")
    var pairedBootstrap = false
    @Option(name: .customLong("paired-bs-n"), help: "With --paired-bs: the number of resamples (default 1000).") var resamples: Int?
    @Option(help: "With --paired-bs: numpy's seed for the resamples (default: SACREBLEU_SEED as sacreBLEU reads it, else 12345).")
    var seed: UInt64?

    struct Report: Encodable {
        let bleu: BLEUScore
        let chrf: Double
        let sentences: Int
        let references: Int
        let bleuSignature: String
        let chrfSignature: String
        enum CodingKeys: String, CodingKey {
            case bleu, chrf, sentences, references
            case bleuSignature = "bleu_signature", chrfSignature = "chrf_signature"
        }
    }

    func validate() throws {
        if (hypotheses + references).filter({ $0 == "-" }).count > 1 {
            throw ValidationError("only one of --hypotheses and --references can read standard input")
        }
        if pairedBootstrap && hypotheses.count < 2 {
            throw ValidationError("--paired-bs compares systems: give --hypotheses the baseline and at least one other")
        }
        if !pairedBootstrap && hypotheses.count > 1 { throw ValidationError("several --hypotheses files are systems to compare: add --paired-bs") }
        if !pairedBootstrap && (resamples != nil || seed != nil) { throw ValidationError("--paired-bs-n and --seed apply with --paired-bs") }
        try OptionRanges.whole("paired-bs-n", resamples, 1...1_000_000)
        if !references.isEmpty && (data != nil || split != nil || tgt != nil) {
            throw ValidationError("give --references, or --data with --split and --tgt, not both")
        }
    }

    func run() throws {
        var referencePaths = references
        if referencePaths.isEmpty {
            guard let data, let split, let tgt else { throw ValidationError("give --references, or --data with --split and --tgt") }
            referencePaths = [try CorpusReader.path(directory: data, split: split, language: tgt)]
        }
        let systems = try hypotheses.map(readLines)
        let streams = try referencePaths.map { path in
            let r = try readLines(path)
            for (file, lines) in zip(hypotheses, systems) where lines.count != r.count {
                throw InputError("\(Self.name(file)) has \(lines.count) lines, \(Self.name(path)) has \(r.count): they must be line-aligned")
            }
            return r
        }
        if pairedBootstrap { return try runPairedBootstrap(systems: systems, referenceStreams: streams) }
        guard let h = systems.first else { throw ValidationError("give --hypotheses a file, or - for standard input") }
        let bleu = BLEUScore.corpus(hypotheses: h, referenceStreams: streams)
        let chrf = ChrFScore.corpus(hypotheses: h, referenceStreams: streams)
        let report = Report(bleu: bleu, chrf: chrf.score, sentences: h.count, references: streams.count,
                            bleuSignature: BLEUScore.signature(references: streams.count), chrfSignature: ChrFScore.signature(references: streams.count))
        // With --json -, standard output carries the JSON alone.
        if jsonPath != "-" {
            print(bleu.formatted)
            print(chrf.formatted)
            print("signatures: BLEU \(report.bleuSignature), chrF2 \(report.chrfSignature) (sacreBLEU 2.6.0's definitions, checked against it)")
        }
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
    }

    static func name(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Lines of a UTF-8 file (plain or gzip), keeping empty lines: an empty hypothesis is a
    /// translation too.
    func readLines(_ path: String) throws -> [String] {
        guard path == "-" || FileManager.default.fileExists(atPath: path) else { throw InputError("\(path): no such file") }
        do {
            return try CorpusReader.readLines(path)
        } catch CorpusError.empty {
            return []
        }
    }
}
