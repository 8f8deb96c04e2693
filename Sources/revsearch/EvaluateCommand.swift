import ArgumentParser
import Foundation
import Translation

/// `revsearch evaluate`: corpus BLEU and chrF of a hypothesis file against a reference
/// file, identical to sacreBLEU's defaults and printed in its style.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Corpus BLEU (sacreBLEU's 13a, exp smoothing) and chrF of hypotheses against references."
    )

    @Option(help: "Hypotheses, one sentence a line (detokenized).") var hypotheses: String
    @Option(help: "References, line-aligned with the hypotheses.") var references: String
    @Option(name: .customLong("json"), help: "Also write the scores as JSON to this path.") var jsonPath: String?

    struct Report: Encodable {
        let bleu: BLEUScore
        let chrf: Double
        let sentences: Int
    }

    func run() throws {
        let h = try readLines(hypotheses), r = try readLines(references)
        guard h.count == r.count else {
            throw CLIError("\(hypotheses) has \(h.count) lines, \(references) has \(r.count): they must be line-aligned")
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
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such file") }
        do {
            return try CorpusReader.readLines(path)
        } catch CorpusError.empty {
            return []
        }
    }
}
