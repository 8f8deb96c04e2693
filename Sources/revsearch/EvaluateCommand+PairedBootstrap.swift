import ArgumentParser
import Foundation
import InstrumentedRun
import Translation

/// `revsearch evaluate --paired-bs`: sacreBLEU's paired bootstrap resampling test, with its
/// numbers (`PairedBootstrap` reproduces them bit for bit), table and signatures.
extension EvaluateCommand {
    /// The figures of every system, the baseline first, as sacreBLEU's JSON has them, with the
    /// test's settings and signatures.
    struct PairedReport: Encodable {
        struct System: Encodable {
            let system: String
            let bleu: PairedBootstrap.Estimate
            let chrf: PairedBootstrap.Estimate
            enum CodingKeys: String, CodingKey { case system, bleu = "BLEU", chrf = "chrF2" }
        }
        let systems: [System]
        let sentences: Int
        let references: Int
        let resamples: Int
        let seed: String
        let bleuSignature: String
        let chrfSignature: String
        enum CodingKeys: String, CodingKey {
            case systems, sentences, references, resamples, seed
            case bleuSignature = "bleu_signature", chrfSignature = "chrf_signature"
        }
    }

    func runPairedBootstrap(systems: [[String]], referenceStreams: [[String]]) throws {
        let seed = try pairedSeed()
        let count = resamples ?? 1000
        let results = PairedBootstrap.test(systems: systems, referenceStreams: referenceStreams, resamples: count, seed: seed)
        let names = hypotheses.enumerated().map { $0.offset == 0 ? "Baseline: \(Self.name($0.element))" : Self.name($0.element) }
        let report = PairedReport(
            systems: zip(names, results).map { PairedReport.System(system: $0, bleu: $1.bleu, chrf: $1.chrf) },
            sentences: systems[0].count, references: referenceStreams.count, resamples: count, seed: seed.description,
            bleuSignature: PairedBootstrap.signature(BLEUScore.signature(references: referenceStreams.count), resamples: count, seed: seed),
            chrfSignature: PairedBootstrap.signature(ChrFScore.signature(references: referenceStreams.count), resamples: count, seed: seed))
        // With --json -, standard output carries the JSON alone.
        if jsonPath != "-" { print(Self.table(report)) }
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
    }

    /// --seed, else SACREBLEU_SEED as sacreBLEU reads it (a whole number, or none for fresh
    /// entropy), else sacreBLEU's 12345. One difference: sacreBLEU leaves the comparisons
    /// unseeded when the seed is 0 (it tests the seed for truth); here 0 seeds them all.
    func pairedSeed() throws -> PairedBootstrap.Seed {
        if let seed { return .fixed(seed) }
        guard let variable = ProcessInfo.processInfo.environment["SACREBLEU_SEED"] else { return .fixed(12345) }
        let value = variable.trimmingCharacters(in: .whitespaces)
        if value.lowercased() == "none" { return .unseeded }
        guard let seed = UInt64(value) else {
            throw InputError("SACREBLEU_SEED=\(variable): expected a whole number in 0...\(UInt64.max), or none")
        }
        return .fixed(seed)
    }

    /// sacreBLEU's table (one line a system, as in its formats other than the grid): score
    /// (bootstrap mean ± 95% CI) to one decimal, and the p-value, marked * below 0.05.
    static func table(_ report: PairedReport) -> String {
        func cell(_ estimate: PairedBootstrap.Estimate) -> String {
            var text = String(format: "%.1f (%.1f ± %.1f)", estimate.score, estimate.mean, estimate.ci)
            if let p = estimate.pValue { text += String(format: " (p = %.4f)", p) + (p < 0.05 ? "*" : "") }
            return text
        }
        let rows = [["System", "BLEU (μ ± 95% CI)", "chrF2 (μ ± 95% CI)"]]
            + report.systems.map { [$0.system, cell($0.bleu), cell($0.chrf)] }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            String(repeating: " ", count: widths[0] - row[0].count) + row[0] + "  "
                + row[1] + String(repeating: " ", count: widths[1] - row[1].count) + "  " + row[2]
        }
        let baseline = report.systems.first?.system ?? ""
        return (lines + [
            "",
            "Paired bootstrap resampling test with \(report.resamples) resampling trials: each system against \(baseline).",
            "Actual score (bootstrap mean ± 95% CI); p < 0.05 (*): the difference from the baseline is unlikely to be chance.",
            "signatures: BLEU \(report.bleuSignature), chrF2 \(report.chrfSignature) (sacreBLEU 2.6.0's, checked against it)",
        ]).joined(separator: "\n")
    }
}
