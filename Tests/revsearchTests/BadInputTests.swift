import Foundation
import Testing

/// One case per class of bad input the reliability issue lists: each is refused with its
/// status (64 usage, 2 bad input) and a one-line message naming the option, or the file and
/// field, and what was expected; none traps.
@Suite struct BadInputTests {
    struct Case: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let message: String
        var description: String { arguments.joined(separator: " ") }
    }

    static func check(_ cases: [Case]) throws {
        for c in cases {
            let result = try revsearch(arguments: c.arguments)
            #expect(result.status == c.status, "\(c): status \(result.status), stderr \(result.stderr)")
            #expect(result.stderr.contains(c.message), "\(c): \(result.stderr)")
        }
    }

    @Test func numbersOutOfRangeNameTheOption() throws {
        let data = try SearchCommandTests.corpus(), out = try temporaryDirectory().appendingPathComponent("run").path
        let search = ["search", "--data", data.path, "--out", out] + SearchCommandTests.tiny
        let train = ["train", "--data", data.path, "--src", "en", "--tgt", "de", "--out", out]
        try Self.check([
            Case(arguments: search + ["--splits", "0"], status: 64, message: "--splits: expected a whole number in 2...64, found 0"),
            Case(arguments: search + ["--d", "0"], status: 64, message: "--d: expected a whole number in 1..."),
            Case(arguments: search + ["--checkpoint-every", "0"], status: 64, message: "--checkpoint-every: expected"),
            Case(arguments: search + ["--max-tokens", "0"], status: 64, message: "--max-tokens: expected"),
            Case(arguments: search + ["--lr", "nan"], status: 64, message: "--lr: expected a learning rate in (0, 10], found nan"),
            Case(arguments: search + ["--dropout", "1"], status: 64, message: "--dropout: expected a rate in [0, 1), found 1.0"),
            Case(arguments: search + ["--memory-budget", "99999999999999999999"], status: 64, message: "--memory-budget: expected a size"),
            Case(arguments: search + ["--layers", "100000"], status: 64, message: "--layers: expected a whole number in 1...4096"),
            Case(arguments: search + ["--d", "1048560", "--e", "8", "--splits", "2"], status: 64, message: "more than this machine's"),
            Case(arguments: train + ["--heads", "3"], status: 64, message: "--heads 3: must divide the baseline's width d = 256"),
            Case(arguments: train + ["--validate-every", "0"], status: 64, message: "--validate-every: expected"),
            Case(arguments: ["translate", "--checkpoint", out + "/checkpoint.json", "--beam", "0"], status: 64, message: "--beam: expected a whole number in 1...1024"),
            Case(arguments: ["translate", "--checkpoint", out + "/checkpoint.json", "--lenpen", "nan"], status: 64, message: "--lenpen: expected"),
            Case(arguments: ["profile", "--top", "-1"], status: 64, message: "--top"),
            Case(arguments: ["plan", "--largest", "d"], status: 64, message: "--largest needs --budget"),
            Case(arguments: ["plan", "--step", "inference"], status: 64, message: "--step: expected training, search or baseline"),
            Case(arguments: ["plan", "--data", data.path], status: 64, message: "--data plans a search: use --step search"),
            Case(arguments: ["plan", "--step", "search", "--data", data.path], status: 64, message: "needs --vocab"),
            Case(arguments: ["plan", "--d", "25"], status: 64, message: "the model cannot be built"),
            Case(arguments: ["plan", "--budget", "lots"], status: 64, message: "--budget: expected a size"),
            Case(arguments: ["bench", "step", "--modes", ","], status: 64, message: "--modes: expected at least one mode"),
            Case(arguments: ["gradcheck", "--ops", ""], status: 64, message: "--ops: expected op names"),
        ])
    }

    @Test func filesWithFieldsOutOfRangeNameTheFileAndField() throws {
        let dir = try temporaryDirectory()
        let config = dir.appendingPathComponent("model.json")
        for (body, message) in [("{\"seed\": -1}", "field 'seed': expected a whole number in 0..."),
                                ("{\"vocabulary\": 3}", "field 'vocabulary': expected a whole number in 4..."),
                                ("{\"n\": 0}", "field 'n': expected a whole number in 2...64"),
                                ("{\"dropout\": 1.5}", "field 'dropout': expected a rate in [0, 1), found 1.5")] {
            try body.write(to: config, atomically: true, encoding: .utf8)
            try Self.check([Case(arguments: ["verify", "--preset", "tiny", "--config", config.path], status: 2, message: "\(config.path): \(message)")])
        }
    }

    /// Blank lines only, every pair over the length limit, a single pair: each refused with
    /// what was read and why pairs were left out.
    @Test func degenerateCorporaSayWhatWasReadAndDropped() throws {
        let root = try temporaryDirectory()
        let long = (0..<300).map { "w\($0)" }.joined(separator: " ")
        for (name, line, count, message) in [("blank", "", 4, "4 left out for an empty line"),
                                             ("long", long, 4, "4 for more than 128 subwords on a side"),
                                             ("single", "a dog", 1, "1 usable, and a search")] {
            let data = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            for language in ["en", "de"] {
                try String(repeating: line + "\n", count: count).write(to: data.appendingPathComponent("train.\(language)"), atomically: true, encoding: .utf8)
            }
            try Self.check([Case(arguments: ["search", "--data", data.path, "--out", root.appendingPathComponent("out-\(name)").path] + SearchCommandTests.tiny,
                                 status: 2, message: message)])
        }
    }

    /// A run directory is never shared or overwritten: a second run while one holds the
    /// lock, a fresh run into a non-empty directory that is not a run, an empty --out.
    @Test func runsCannotClobberEachOther() throws {
        let data = try SearchCommandTests.corpus(), root = try temporaryDirectory()
        let busy = root.appendingPathComponent("busy")
        try FileManager.default.createDirectory(at: busy, withIntermediateDirectories: true)
        let lock = open(busy.appendingPathComponent(".revsearch.lock").path, O_CREAT | O_RDWR, 0o644)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }
        let other = root.appendingPathComponent("papers")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "mine".write(to: other.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try Self.check([
            Case(arguments: ["search", "--data", data.path, "--out", busy.path] + SearchCommandTests.tiny, status: 2, message: "another revsearch run is using this directory"),
            Case(arguments: ["search", "--data", data.path, "--out", other.path] + SearchCommandTests.tiny, status: 2, message: "not empty and holds no search checkpoint"),
            Case(arguments: ["train", "--data", data.path, "--src", "en", "--tgt", "de", "--out", other.path], status: 2, message: "not empty and holds no training checkpoint"),
            Case(arguments: ["search", "--data", data.path, "--out", ""] + SearchCommandTests.tiny, status: 64, message: "--out: expected a directory, found an empty path"),
        ])
        #expect(try String(contentsOf: other.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
    }

    /// `--resume` with options, a vocabulary or a corpus other than the run's is refused
    /// naming what differs, not silently ignored or used.
    @Test func resumeRefusesWhatDiffersFromTheRun() throws {
        let data = try SearchCommandTests.corpus(), root = try temporaryDirectory()
        let out = root.appendingPathComponent("run").path
        let first = try revsearch(arguments: ["search", "--data", data.path, "--out", out, "--max-steps", "1"] + SearchCommandTests.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        let other = root.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        for language in ["en", "de"] {
            let text = try String(contentsOf: data.appendingPathComponent("train.\(language)"), encoding: .utf8)
            try text.replacingOccurrences(of: "dog", with: "cat").write(to: other.appendingPathComponent("train.\(language)"), atomically: true, encoding: .utf8)
        }
        let resume = ["search", "--out", out, "--max-steps", "2", "--resume"]
        // The run's vocabulary with its keys in another order and no indentation: the same
        // vocabulary in other bytes, which a resume accepts; without its last merge and the
        // piece it made, another vocabulary, which it refuses.
        let ownPath = URL(fileURLWithPath: "\(out)/vocab.json")
        var own = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: ownPath)) as? [String: Any])
        let relaid = root.appendingPathComponent("relaid.json"), smaller = root.appendingPathComponent("smaller.json")
        try JSONSerialization.data(withJSONObject: own, options: []).write(to: relaid)
        #expect(try Data(contentsOf: relaid) != Data(contentsOf: ownPath))
        own["merges"] = try #require(own["merges"] as? [[String]]).dropLast().map { $0 }
        own["pieces"] = try #require(own["pieces"] as? [String]).dropLast().map { $0 }
        try JSONSerialization.data(withJSONObject: own, options: []).write(to: smaller)
        try Self.check([
            Case(arguments: resume + ["--data", data.path, "--src", "en", "--tgt", "de", "--vocab", smaller.path], status: 2,
                 message: "--resume with a vocabulary other than the run's"),
            Case(arguments: resume + ["--data", data.path] + SearchCommandTests.tiny.map { $0 == "24" ? "48" : $0 }, status: 2,
                 message: "a resumed search keeps its model and options, but --d 48 (the run has 24)"),
            Case(arguments: resume + ["--data", other.path, "--src", "en", "--tgt", "de"], status: 2, message: "not the corpus this search was started on"),
            Case(arguments: resume + ["--data", data.path, "--src", "en", "--tgt", "de", "--mixture", "normalised"], status: 2,
                 message: "--mixture normalised (the run has plain)"),
        ])
        let again = try revsearch(arguments: resume + ["--data", data.path, "--src", "en", "--tgt", "de", "--vocab", relaid.path])
        #expect(again.status == 0, "\(again.stderr)")
    }
}
