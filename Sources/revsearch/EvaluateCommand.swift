import ArgumentParser
import Foundation
import InstrumentedRun
import Translation

/// `revsearch evaluate`: corpus BLEU and chrF of a hypothesis file against a reference
/// file, identical to sacreBLEU's defaults and printed in its style.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Corpus BLEU (sacreBLEU's 13a, exp smoothing) and chrF of hypotheses against references."
    )

    @Option(help: "Hypotheses, one sentence a line (detokenized); - reads standard input.") var hypotheses: String
    @Option(help: "References, line-aligned with the hypotheses (plain or gzip).") var references: String?
    @Option(help: "Corpus directory: use <data>/<split>.<tgt>[.gz] as the references.") var data: String?
    @Option(help: "With --data: the split, e.g. test_2016_flickr.") var split: String?
    @Option(help: "With --data: the target language.") var tgt: String?
    @Option(name: .customLong("json"), help: "Also write the scores as JSON to this path (-: standard output).") var jsonPath: String?

    struct Report: Encodable {
        let bleu: BLEUScore
        let chrf: Double
        let sentences: Int
    }

    func validate() throws {
        if hypotheses == "-" && references == "-" {
            throw ValidationError("--hypotheses and --references cannot both read standard input")
        }
    }

    func run() throws {
        let referencePath: String
        if let references {
            referencePath = references
        } else if let data, let split, let tgt {
            referencePath = try CorpusReader.path(directory: data, split: split, language: tgt)
        } else {
            throw ValidationError("give --references, or --data with --split and --tgt")
        }
        let h = try readLines(hypotheses), r = try readLines(referencePath)
        guard h.count == r.count else {
            throw InputError("\(hypotheses == "-" ? "standard input" : hypotheses) has \(h.count) lines, \(referencePath) has \(r.count): they must be line-aligned")
        }
        let bleu = BLEUScore.corpus(hypotheses: h, references: r)
        let chrf = ChrFScore.corpus(hypotheses: h, references: r)
        print(bleu.formatted)
        print(chrf.formatted)
        if let jsonPath { try AtomicFile.writeJSON(Report(bleu: bleu, chrf: chrf.score, sentences: h.count), to: jsonPath) }
    }

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
