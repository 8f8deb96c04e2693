import Foundation
import Testing

/// Runs the built `revsearch` binary the way a user does (`input`, if given, on its standard
/// input; `environment` added to this process's) and returns its exit status and output.
func revsearch(arguments: [String], input: Data? = nil, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = try revsearchBinary()
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = Pipe()
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

func revsearch(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try revsearch(arguments: arguments)
}

/// The executable sits beside the test bundle in the build products directory.
func revsearchBinary() throws -> URL {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = exe.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("revsearch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "revsearch next to \(exe.path)"])
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The exit statuses CI tells apart (README, "Exit status"), a test per class. A failed
/// check (1) is `VerifyCommandTests.injectedFaultFailsWithExitStatusOne` and the search's
/// `verificationFailureStopsTheSearch`; an exceeded memory budget (3) is
/// `SearchCommandTests.memoryBudgetStopsTheRunWithAnErrorNamingTheLayer`.
@Suite struct ExitStatusTests {
    @Test func successAndHelpExitZero() throws {
        let ok = try revsearch("gradcheck", "--ops", "relu")
        #expect(ok.status == 0, "\(ok.stderr)")
        let help = try revsearch("--help")
        #expect(help.status == 0 && help.stdout.contains("Exit status:"), "\(help.stdout)\(help.stderr)")
    }

    /// The version from one place, with the commit the binary was built from.
    @Test func versionNamesTheCommit() throws {
        let result = try revsearch("--version")
        #expect(result.status == 0)
        #expect(result.stdout.range(of: #"^revsearch \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)\n$"#, options: .regularExpression) != nil,
                "\(result.stdout)")
    }

    @Test func missingDataDirectoryIsBadInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("missing").path
        let result = try revsearch("search", "--data", data, "--src", "en", "--tgt", "de", "--out", dir.appendingPathComponent("run").path)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("revsearch: ") && result.stderr.contains(data), "\(result.stderr)")
    }

    @Test func malformedConfigJSONIsBadInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.json").path
        try #"{"n": 2,"#.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try revsearch("verify", "--preset", "tiny", "--config", path)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("revsearch: \(path): not valid JSON"), "\(result.stderr)")
    }

    /// Foundation's errors read as "PATH: what the system said", not NSError's dump.
    @Test func unwritableOutputIsBadInputNamingThePath() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("file").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try revsearch("gradcheck", "--ops", "relu", "--json", file + "/out.json")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("revsearch: \(file)/out.json: cannot write: \(file) is a file, not a directory") && !result.stderr.contains("Error Domain"), "\(result.stderr)")
    }

    @Test func unknownOptionIsUsage() throws {
        let result = try revsearch("verify", "--preset", "tiny", "--bogus")
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("Unknown option '--bogus'"), "\(result.stderr)")
    }
}

@Suite struct GradCheckCommandTests {
    /// The primitives the foundation promises; the report must list each of them.
    static let required = [
        "matmul", "linear", "add", "sub", "mul", "bias", "relu", "gelu", "sigmoid", "softmax",
        "log_softmax", "cross_entropy", "layer_norm", "embedding", "conv1d", "dropout", "split",
        "concat", "max_pool", "mean_pool", "reshape", "transpose",
    ]

    @Test func writesJSONListingEveryPrimitiveAllPassed() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("out.json").path
        let result = try revsearch("gradcheck", "--json", path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        #expect(json["passed"] as? Bool == true)
        let ops = json["ops"] as! [[String: Any]]
        let names = Set(ops.compactMap { $0["op"] as? String })
        for op in Self.required { #expect(names.contains(op), "missing \(op)") }
        for row in ops {
            #expect(row["passed"] as? Bool == true, "\(row)")
            #expect(row["max_abs_error"] is Double && row["max_rel_error"] is Double)
            let float32 = row["float32"] as? [String: Any]
            #expect(float32?["passed"] as? Bool == true && float32?["gradient_bound"] is Double, "\(row)")
        }
        #expect(result.stdout.contains("fd abs error") && result.stdout.contains("f32 grad err"))
    }

    @Test func unknownOpIsAClearError() throws {
        let result = try revsearch("gradcheck", "--ops", "matmul,nonsense")
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown op 'nonsense'"))
    }
}

@Suite struct ProbeCommandTests {
    func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func passingAndFailingExpectationsSetTheExitStatus() throws {
        let dir = try temporaryDirectory()
        let good = try write("""
            {"name": "matmul-only", "scenario": "gradcheck", "parameters": {"ops": ["matmul"]},
             "expect": [{"metric": "passed", "equals": true}, {"metric": "cases", "at_least": 1}]}
            """, "good.json", in: dir)
        let pass = try revsearch("probe", good)
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("2 passed, 0 failed"))
        let bad = try write("""
            {"name": "impossible", "scenario": "gradcheck", "parameters": {"ops": ["matmul"]},
             "expect": [{"metric": "max_abs_error", "at_most": -1}]}
            """, "bad.json", in: dir)
        let fail = try revsearch("probe", bad)
        #expect(fail.status == 1)
        #expect(fail.stdout.contains("FAIL max_abs_error <= -1"))
    }

    @Test func malformedProbesNameFileAndField() throws {
        let dir = try temporaryDirectory()
        let cases: [(String, String)] = [
            (#"{"name": "x", "scenario": "gradcheck", "expect": [{"metric": "passed", "equals": true}], "expct": 1}"#, "unknown field 'expct'"),
            (#"{"name": "x", "scenario": "gradcheck", "expect": [{"metric": "passed", "at_most": "low"}]}"#, "field 'expect[0].at_most': expected a number"),
            (#"{"name": "x", "scenario": "gradcheck", "expect": []}"#, "field 'expect': missing or empty"),
            (#"{"name": "x", "scenario": "warp", "expect": [{"metric": "passed", "equals": true}]}"#, "unknown scenario 'warp'"),
            (#"{"name": "x", "scenario": "gradcheck", "parameters": {"opz": []}, "expect": [{"metric": "passed", "equals": true}]}"#, "unknown field 'parameters.opz'"),
            (#"{"name": "x", "scenario": "gradcheck", "expect": [{"metric": "speed", "at_least": 1}]}"#, "unknown metric 'speed'"),
            (#"{"name": "x", "#, "not valid JSON"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let path = try write(text, "p\(index).json", in: dir)
            let result = try revsearch("probe", path)
            #expect(result.status == 2)
            #expect(result.stderr.contains(path), "names the file: \(result.stderr)")
            #expect(result.stderr.contains(message), "expected '\(message)' in: \(result.stderr)")
        }
    }
}

@Suite struct VerifyCommandTests {
    @Test func tinyFloat64VerificationPassesAndWritesJSON() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("verify.json").path
        let result = try revsearch("verify", "--preset", "tiny", "--dtype", "float64", "--depth", "2", "--json", path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        for key in ["passed", "dtype", "depth", "modes", "max_activation_rel_error", "max_grad_rel_error", "fd_max_fraction", "fd_tensors",
                    "steps", "finite_differences", "causality", "padding"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["passed"] as? Bool == true)
        #expect(json["dtype"] as? String == "float64")
        #expect(json["modes"] as? [String] == ["reconstruction", "hybrid:2"], "both modes by default")
        let gradError: Double = (json["max_grad_rel_error"] as? Double) ?? 1
        #expect(gradError <= 1e-10)
        let steps = json["steps"] as? [[String: Any]] ?? []
        #expect(Set(steps.compactMap { $0["batch"] as? String }) == ["ragged", "single", "unpadded"])
        #expect(steps.count == 6, "3 batch layouts x 2 modes")
        let layerRows: Int = (steps.first?["layers"] as? [Any])?.count ?? 0
        #expect(layerRows == 10, "every split of both stacks: 2 layers x 2 splits + 2 layers x 3 splits")
        let tensors = (steps.first?["parameters"] as? [Any])?.count ?? 0
        #expect(json["fd_tensors"] as? Int == tensors, "finite differences on every parameter tensor")
    }

    /// The baseline Transformer is verified too: Float32 against Float64, finite
    /// differences on every tensor, causality, padding invariance.
    @Test(arguments: ["float32", "float64"])
    func baselineModelIsVerified(_ dtype: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("verify.json").path
        let result = try revsearch("verify", "--model", "baseline", "--preset", "tiny", "--dtype", dtype, "--json", path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        #expect(json["model"] as? String == "baseline")
        #expect((json["fd_tensors"] as? Int ?? 0) > 20)
        #expect((json["steps"] as? [Any])?.count == (dtype == "float32" ? 3 : 0))
        #expect(json["causality"] != nil && (json["padding"] as? [Any])?.count == 1)
    }

    @Test func injectedFaultFailsWithExitStatusOne() throws {
        let result = try revsearch("verify", "--preset", "tiny", "--fault", "sign_flipped_inverse")
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILED"))
    }

    @Test func badConfigNamesFileAndField() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.json").path
        try #"{"n": 2, "d": 250, "depht": 3}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try revsearch("verify", "--config", path)
        #expect(result.status == 2)
        #expect(result.stderr.contains(path) && result.stderr.contains("unknown field 'depht'"), "\(result.stderr)")
        try #"{"n": 2, "d": 250}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let invalid = try revsearch("verify", "--config", path)
        #expect(invalid.stderr.contains("model_width: 250 must divide by splits (2) and splits + 1 (3)"), "\(invalid.stderr)")
    }
}

@Suite struct EvaluateCommandTests {
    @Test func printsSacreBLEUStyleAndWritesJSON() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/sacrebleu")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("scores.json").path
        let result = try revsearch("evaluate", "--hypotheses", fixtures.appendingPathComponent("multi30k_noisy.hyp").path,
                                   "--references", fixtures.appendingPathComponent("multi30k_noisy.ref").path, "--json", json)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("BLEU = 59.70 85.6/67.1/53.2/42.6 (BP = 0.994 ratio = 0.994 hyp_len = 3644 ref_len = 3666)"))
        #expect(result.stdout.contains("chrF2 = 77.20"))
        let scores = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        #expect(scores["sentences"] as? Int == 300)
        let mismatched = try revsearch("evaluate", "--hypotheses", fixtures.appendingPathComponent("unicode.hyp").path,
                                       "--references", fixtures.appendingPathComponent("multi30k_noisy.ref").path)
        #expect(mismatched.status == 2 && mismatched.stderr.contains("has 5 lines"), "\(mismatched.stderr)")
    }

    /// Several references per sentence, the hypotheses on standard input: sacreBLEU 2.6.0's
    /// figures and signatures (Fixtures/sacrebleu/expected.json: 60.88 BLEU, 77.95 chrF2).
    @Test func severalReferencesAndStandardInput() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/sacrebleu")
        let hypotheses = try Data(contentsOf: fixtures.appendingPathComponent("multi30k_three_refs.hyp"))
        let references = ["ref", "ref2", "ref3"].flatMap { ["--references", fixtures.appendingPathComponent("multi30k_three_refs.\($0)").path] }
        let result = try revsearch(arguments: ["evaluate", "--hypotheses", "-"] + references, input: hypotheses)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("BLEU = 60.88 87.8/68.5/53.7/42.5"), "\(result.stdout)")
        #expect(result.stdout.contains("chrF2 = 77.95"))
        #expect(result.stdout.contains("BLEU nrefs:3|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"))
        let both = try revsearch("evaluate", "--hypotheses", "-", "--references", "-")
        #expect(both.status == 64, "\(both.stderr)")
    }
}

/// `revsearch train --genotype` and `translate` on a derived model, as a user runs them.
@Suite struct TrainGenotypeCommandTests {
    /// 60 training and 6 validation pairs from a few words.
    static func corpus() throws -> URL {
        let dir = try temporaryDirectory()
        let nouns = [("dog", "Hund"), ("cat", "Katze"), ("man", "Mann"), ("woman", "Frau"), ("child", "Kind")]
        let verbs = [("runs", "läuft"), ("sleeps", "schläft"), ("eats", "isst"), ("sings", "singt")]
        for (split, range) in [("train", 0..<60), ("val", 60..<66)] {
            var en: [String] = [], de: [String] = []
            for i in range {
                let (n, v, n2) = (nouns[i % 5], verbs[(i / 5) % 4], nouns[(i / 3) % 5])
                en.append("The \(n.0) \(v.0) with the \(n2.0).")
                de.append("Der \(n.1) \(v.1) mit dem \(n2.1).")
            }
            try (en.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("\(split).en"), atomically: true, encoding: .utf8)
            try (de.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("\(split).de"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// d = 12 (encoder splits of 6, decoder of 4), a block of two layers.
    static let genotype = """
        {"version": 1, "splits": 2, "block_layers": 2, "model_width": 12, "embedding_width": 8, "pooling": "max",
         "encoder": [["self_attn", "ffn"], ["conv3", "glu"]], "decoder": [["self_attn", "ffn"], ["dynconv3", "glu"]]}
        """

    func train(_ data: URL, _ out: URL, _ extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try revsearch(arguments: ["train", "--data", data.path, "--src", "en", "--tgt", "de", "--out", out.path, "--heads", "2",
                                  "--merges", "40", "--max-tokens", "96", "--warmup", "2", "--validate-every", "2", "--checkpoint-every", "2"]
                      + extra)
    }

    static func losses(_ run: URL) throws -> [String] {
        try String(contentsOf: run.appendingPathComponent("train.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",")[2]) }
    }

    /// Train 3 steps, resume to 5 (the losses of an uninterrupted 5-step run), translate.
    @Test func trainsResumesAndTranslates() throws {
        let data = try Self.corpus(), root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: root) }
        let genotype = root.appendingPathComponent("genotype.json")
        try Self.genotype.write(to: genotype, atomically: true, encoding: .utf8)
        let model = ["--genotype", genotype.path, "--layers", "2", "--backprop", "reconstruction"]
        let run = root.appendingPathComponent("run"), whole = root.appendingPathComponent("whole")
        let first = try train(data, run, model + ["--max-steps", "3"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("reversible model from \(genotype.path) (d 12, 2 splits, 2 + 2 layers, backprop reconstruction)"))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("checkpoint.json"))) as! [String: Any]
        #expect(record["family"] as? String == "reversible" && record["backprop"] as? String == "reconstruction")
        #expect(record["genotype"] as? String == genotype.path)
        let resumed = try train(data, run, ["--resume", "--max-steps", "5"])
        #expect(resumed.status == 0 && resumed.stdout.contains("resuming at step 3"), "\(resumed.stdout)\(resumed.stderr)")
        #expect(try train(data, whole, model + ["--max-steps", "5"]).status == 0)
        #expect(try Self.losses(run) == Self.losses(whole) && Self.losses(run).count == 5)
        let output = root.appendingPathComponent("val.hyp")
        let translated = try revsearch(arguments: ["translate", "--checkpoint", run.appendingPathComponent("checkpoint.json").path,
                                                   "--input", data.appendingPathComponent("val.en").path, "--output", output.path, "--beam", "2"])
        #expect(translated.status == 0, "\(translated.stderr)")
        #expect(try String(contentsOf: output, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count == 7,
                "6 lines, each ended by a newline")
    }

    /// Unbuildable genotypes and option clashes fail before any training, naming the file
    /// and the field (or the option).
    @Test func badGenotypesNameFileAndField() throws {
        let data = try Self.corpus(), root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: root) }
        let cases: [(String, [String], String)] = [
            (Self.genotype.replacingOccurrences(of: "\"model_width\": 12", with: "\"model_width\": 250"), [],
             "model_width: 250 must divide by splits (2) and splits + 1 (3)"),
            (Self.genotype.replacingOccurrences(of: "\"conv3\"", with: "\"conv4\""), [], "encoder[1][0]: unknown op 'conv4'"),
            (Self.genotype.replacingOccurrences(of: "[\"self_attn\", \"ffn\"], [\"conv3\"", with: "[\"self_attn\", \"cross_attn\"], [\"conv3\""), [],
             "encoder[0][1]: 'cross_attn' is decoder-only"),
            (#"{"version": 1, "splits": "two"}"#, [], "not a genotype"),
            (Self.genotype, ["--heads", "4"], "--heads 4 must divide both split widths"),
            (Self.genotype, ["--d", "24"], "--d 24: a genotype model takes d from its genotype"),
            (Self.genotype, ["--backprop", "sometimes"], "--backprop: unknown mode 'sometimes'"),
        ]
        for (index, (text, options, message)) in cases.enumerated() {
            let path = root.appendingPathComponent("g\(index).json")
            try text.write(to: path, atomically: true, encoding: .utf8)
            let result = try train(data, root.appendingPathComponent("run\(index)"), ["--genotype", path.path, "--max-steps", "1"] + options)
            #expect(result.status == (options.isEmpty ? 2 : 64), "a file's fault or the options'")
            #expect(result.stderr.contains(message), "expected '\(message)' in: \(result.stderr)")
            if !options.contains("--backprop") { #expect(result.stderr.contains(path.path), "names the file: \(result.stderr)") }
        }
    }
}
