import Foundation
import Testing

/// `revsearch evaluate --paired-bs` as a user runs it, against the figures sacreBLEU's test
/// gave for the same files (Fixtures/sacrebleu/expected.json, "paired_bs").
@Suite struct PairedBootstrapCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/sacrebleu")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// sacreBLEU's figures for a case: per metric, per system, score / mean / ci / p_value.
    static func expected(_ name: String) throws -> [String: [[String: Any]]] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
        let cases = try #require((json as? [String: Any])?["paired_bs"] as? [String: [String: Any]])
        return try #require(cases[name]?["scores"] as? [String: [[String: Any]]])
    }

    /// Each system's JSON figures within 0.01 of sacreBLEU's, the p-values the same.
    static func expectAgreement(_ json: String, _ expected: [String: [[String: Any]]]) throws {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let systems = try #require(report["systems"] as? [[String: Any]])
        for metric in ["BLEU", "chrF2"] {
            let theirs = try #require(expected[metric])
            #expect(systems.count == theirs.count)
            for (system, reference) in zip(systems, theirs) {
                let ours = try #require(system[metric] as? [String: Any])
                for field in ["score", "mean", "ci"] {
                    let (value, wanted) = (try #require(ours[field] as? Double), try #require(reference[field] as? Double))
                    #expect(abs(value - wanted) <= 0.01, "\(metric) \(field): \(value), sacrebleu \(wanted)")
                }
                let p = ours["p_value"] as? Double, wanted = reference["p_value"] as? Double
                #expect((p == nil) == (wanted == nil) && abs((p ?? 0) - (wanted ?? 0)) < 1e-12, "\(metric) p: \(String(describing: p)), sacrebleu \(String(describing: wanted))")
            }
        }
    }

    @Test func comparesSystemsAsSacreBLEUDoes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("paired.json").path
        let result = try revsearch("evaluate", "--paired-bs", "-i", Self.path("multi30k_noisy.hyp"), Self.path("multi30k_noisy.sys2"),
                                   Self.path("multi30k_noisy.sys3"), "--references", Self.path("multi30k_noisy.ref"), "--json", json)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Baseline: \(Self.path("multi30k_noisy.hyp"))  59.7 (59.6 ± 2.6)"), "\(result.stdout)")
        #expect(result.stdout.contains("33.9 (33.9 ± 2.2) (p = 0.0010)*  60.8 (60.7 ± 1.6) (p = 0.0010)*"), "\(result.stdout)")
        #expect(result.stdout.contains("59.6 (59.4 ± 2.6) (p = 0.2448)   77.0 (77.0 ± 1.5) (p = 0.1678)"), "\(result.stdout)")
        #expect(result.stdout.contains("BLEU nrefs:1|bs:1000|seed:12345|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"))
        try Self.expectAgreement(String(decoding: try Data(contentsOf: URL(fileURLWithPath: json)), as: UTF8.self), Self.expected("multi30k_noisy"))
    }

    /// The baseline on standard input, three references, the seed from SACREBLEU_SEED (as
    /// sacreBLEU reads it) and 500 resamples; `--json -` alone on standard output.
    @Test func seedFromSACREBLEUSEEDAndSeveralReferences() throws {
        let references = ["ref", "ref2", "ref3"].flatMap { ["--references", Self.path("multi30k_three_refs.\($0)")] }
        let arguments = ["evaluate", "--paired-bs", "--paired-bs-n", "500", "-i", "-", Self.path("multi30k_three_refs.sys2")] + references
        let hypotheses = try Data(contentsOf: Self.fixtures.appendingPathComponent("multi30k_three_refs.hyp"))
        let result = try revsearch(arguments: arguments + ["--json", "-"], input: hypotheses, environment: ["SACREBLEU_SEED": "2024"])
        #expect(result.status == 0, "\(result.stderr)")
        try Self.expectAgreement(result.stdout, Self.expected("multi30k_three_refs"))
        let seeded = try revsearch(arguments: arguments + ["--seed", "2024"], input: hypotheses, environment: ["SACREBLEU_SEED": "7"])
        #expect(seeded.stdout.contains("seed:2024|"), "\(seeded.stdout)")
    }

    @Test func rejectsBadInput() throws {
        let (hyp, ref) = (Self.path("multi30k_noisy.hyp"), Self.path("multi30k_noisy.ref"))
        let misaligned = try revsearch("evaluate", "--paired-bs", "-i", hyp, Self.path("unicode.hyp"), "--references", ref)
        #expect(misaligned.status == 2 && misaligned.stderr.contains("\(Self.path("unicode.hyp")) has 5 lines, \(ref) has 300"), "\(misaligned.stderr)")
        let missing = try revsearch("evaluate", "--paired-bs", "-i", hyp, "no-such-system.txt", "--references", ref)
        #expect(missing.status == 2 && missing.stderr.contains("no-such-system.txt: no such file"), "\(missing.stderr)")
        let seed = try revsearch(arguments: ["evaluate", "--paired-bs", "-i", hyp, hyp, "--references", ref], environment: ["SACREBLEU_SEED": "-1"])
        #expect(seed.status == 2 && seed.stderr.contains("SACREBLEU_SEED=-1: expected a whole number"), "\(seed.stderr)")
        // Option values and combinations are usage errors (64), as for every command.
        let none = try revsearch("evaluate", "--paired-bs", "--paired-bs-n", "0", "-i", hyp, hyp, "--references", ref)
        #expect(none.status == 64 && none.stderr.contains("--paired-bs-n: expected a whole number in 1...1000000, found 0"), "\(none.stderr)")
        let alone = try revsearch("evaluate", "--paired-bs", "-i", hyp, "--references", ref)
        #expect(alone.status == 64 && alone.stderr.contains("at least one other"), "\(alone.stderr)")
        let unpaired = try revsearch("evaluate", "-i", hyp, hyp, "--references", ref)
        #expect(unpaired.status == 64 && unpaired.stderr.contains("add --paired-bs"), "\(unpaired.stderr)")
    }
}
