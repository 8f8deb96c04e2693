import Foundation
import Testing
import Translation

/// Our BLEU and chrF against sacreBLEU's own numbers for the fixtures in
/// Fixtures/sacrebleu (made by its make_fixtures.py, which ran sacrebleu; expected.json
/// names the version).
@Suite struct SacreBLEUAgreementTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/sacrebleu")

    static var expected: [String: [String: Any]] {
        let data = try! Data(contentsOf: directory.appendingPathComponent("expected.json"))
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return json["cases"] as! [String: [String: Any]]
    }

    static func lines(_ name: String) -> [String] {
        let text = try! String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    @Test(arguments: ["punctuation", "unicode", "short_and_empty", "no_four_gram", "multi30k_noisy", "multi_reference_small",
                      "multi30k_three_refs"])
    func agreesWithSacreBLEU(_ name: String) throws {
        let case_ = try #require(Self.expected[name])
        let count = case_["references"] as? Int ?? 1
        let hypotheses = Self.lines("\(name).hyp")
        let references = (1...count).map { Self.lines("\(name).ref\($0 == 1 ? "" : String($0))") }
        let bleu = BLEUScore.corpus(hypotheses: hypotheses, referenceStreams: references)
        let expectedBLEU = case_["bleu"] as! Double
        #expect(abs(bleu.score - expectedBLEU) <= 0.01, "BLEU \(bleu.score) vs sacrebleu \(expectedBLEU)")
        for (ours, theirs) in zip(bleu.precisions, case_["precisions"] as! [Double]) {
            #expect(abs(ours - theirs) <= 0.01, "precisions \(bleu.precisions)")
        }
        #expect(bleu.hypothesisLength == case_["sys_len"] as! Int && bleu.referenceLength == case_["ref_len"] as! Int)
        #expect(abs(bleu.brevityPenalty - (case_["bp"] as! Double)) <= 1e-3)
        #expect(bleu.formatted == case_["bleu_line"] as! String)
        let chrf = ChrFScore.corpus(hypotheses: hypotheses, referenceStreams: references)
        #expect(abs(chrf.score - (case_["chrf"] as! Double)) <= 0.01, "chrF \(chrf.score) vs \(case_["chrf"]!)")
        #expect(BLEUScore.signature(references: count) == case_["bleu_signature"] as? String)
        #expect(ChrFScore.signature(references: count) == case_["chrf_signature"] as? String)
        for (hypothesis, tokenized) in zip(hypotheses, case_["tokenized_hypotheses"] as! [String]) {
            #expect(Tokenizer13a.tokenize(hypothesis.trimmingCharacters(in: .whitespaces)) == tokenized, "13a of \(hypothesis)")
        }
    }

    @Test func identicalTextScoresOneHundred() {
        let text = ["A dog runs through the grass.", "Two people sit on a bench."]
        #expect(abs(BLEUScore.corpus(hypotheses: text, references: text).score - 100) < 1e-9)
        #expect(abs(ChrFScore.corpus(hypotheses: text, references: text).score - 100) < 1e-9)
        #expect(BLEUScore.corpus(hypotheses: ["zzz"], references: ["a b c d"]).score == 0)
    }
}
