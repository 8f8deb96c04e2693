import Foundation
import Testing
import Translation

/// Our paired bootstrap resampling test against sacreBLEU's own (`PairedTest`, test_type
/// "bs", as `--paired-bs` runs it) on the fixtures of Fixtures/sacrebleu, and our numpy
/// generator against numpy's draws; make_fixtures.py recorded both.
@Suite struct PairedBootstrapAgreementTests {
    static let directory = SacreBLEUAgreementTests.directory

    static var fixture: [String: Any] {
        get throws {
            let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    @Test func pcg64StreamEqualsNumpys() throws {
        let draws = try #require(try Self.fixture["numpy_pcg64"] as? [String: Any])
        let raw = try #require(draws["raw"] as? [String: [String]])
        #expect(raw.count == 4)
        for (seed, expected) in raw {
            var generator = NumpyPCG64(seed: try #require(UInt64(seed)))
            #expect(expected.map { UInt64($0) } == expected.map { _ in generator.next64() }, "seed \(seed)")
        }
    }

    /// `choice(n, size=(rows, columns))` as sacreBLEU draws its resamples: 32-bit Lemire draws
    /// two to a 64-bit output, none for n = 1, 64-bit draws for n above 2^32.
    @Test func choiceEqualsNumpys() throws {
        let draws = try #require(try Self.fixture["numpy_pcg64"] as? [String: Any])
        let choices = try #require(draws["choices"] as? [[String: Any]])
        #expect(choices.count == 5)
        for choice in choices {
            let seed = try #require((choice["seed"] as? String).flatMap { UInt64($0) })
            let n = try #require(choice["n"] as? Int), rows = try #require(choice["rows"] as? Int)
            let first = try #require(choice["first"] as? [Int]), last = try #require(choice["last"] as? [Int])
            var generator = NumpyPCG64(seed: seed)
            let values = (0..<(rows * (n < 1000 ? n : 3))).map { _ in Int(generator.integer(below: UInt64(n))) }
            #expect(Array(values.prefix(first.count)) == first, "seed \(seed), n \(n)")
            #expect(Array(values.suffix(last.count)) == last, "seed \(seed), n \(n)")
        }
    }

    /// Scores, means and intervals within 0.01, p-values identical (the same resamples, the
    /// same roundings), and the signatures sacreBLEU prints.
    @Test(arguments: ["multi30k_noisy", "multi30k_three_refs", "multi_reference_small"])
    func agreesWithSacreBLEU(_ name: String) throws {
        let cases = try #require(try Self.fixture["paired_bs"] as? [String: [String: Any]])
        let case_ = try #require(cases[name])
        let files = try #require(case_["systems"] as? [String])
        let count = try #require(case_["references"] as? Int), resamples = try #require(case_["resamples"] as? Int)
        let seed = try #require((case_["seed"] as? String).flatMap { UInt64($0) })
        let references = (1...count).map { SacreBLEUAgreementTests.lines("\(name).ref\($0 == 1 ? "" : String($0))") }
        let results = PairedBootstrap.test(systems: files.map(SacreBLEUAgreementTests.lines), referenceStreams: references,
                                           resamples: resamples, seed: .fixed(seed))
        let scores = try #require(case_["scores"] as? [String: [[String: Any]]])
        for (metric, ours) in [("BLEU", results.map(\.bleu)), ("chrF2", results.map(\.chrf))] {
            let theirs = try #require(scores[metric])
            #expect(ours.count == theirs.count && ours.count == files.count)
            for (system, (estimate, expected)) in zip(files, zip(ours, theirs)) {
                for (field, value) in [("score", estimate.score), ("mean", estimate.mean), ("ci", estimate.ci)] {
                    let reference = try #require(expected[field] as? Double)
                    #expect(abs(value - reference) <= 0.01, "\(name) \(system) \(metric) \(field): \(value), sacrebleu \(reference)")
                }
                // p = (c + 1) / (resamples + 1) in both: the same count c, compared as a whole
                // number (Foundation's JSON reading may be off in the last bit of a double).
                let count = { (p: Double?) in p.map { Int(($0 * Double(resamples + 1)).rounded()) - 1 } }
                #expect(count(estimate.pValue) == count(expected["p_value"] as? Double),
                        "\(name) \(system) \(metric) p: \(String(describing: estimate.pValue)), sacrebleu \(String(describing: expected["p_value"]))")
            }
        }
        let signatures = try #require(case_["signatures"] as? [String: String])
        #expect(PairedBootstrap.signature(BLEUScore.signature(references: count), resamples: resamples, seed: .fixed(seed)) == signatures["BLEU"])
        #expect(PairedBootstrap.signature(ChrFScore.signature(references: count), resamples: resamples, seed: .fixed(seed)) == signatures["chrF2"])
    }

    /// A system compared with itself: every resampled difference is 0 and none exceeds the
    /// actual 0, so p = 1 / (resamples + 1), "significant", as sacreBLEU prints it too (p =
    /// 0.0010 at 1000 resamples): its p-value is about the difference's replicability.
    @Test func aSystemAgainstItselfGetsTheSmallestPValue() {
        let lines = SacreBLEUAgreementTests.lines("multi30k_noisy.hyp")
        let references = [SacreBLEUAgreementTests.lines("multi30k_noisy.ref")]
        let results = PairedBootstrap.test(systems: [lines, lines], referenceStreams: references, resamples: 50, seed: .fixed(1))
        #expect(results[1].bleu.pValue == 1.0 / 51 && results[1].chrf.pValue == 1.0 / 51)
        #expect(results[0].bleu.mean == results[1].bleu.mean && results[0].bleu.pValue == nil)
    }
}
