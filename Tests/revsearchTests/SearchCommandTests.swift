import Foundation
import Testing

/// `revsearch search` as a user runs it, on a tiny corpus written for the test.
@Suite struct SearchCommandTests {
    /// 80 pairs from a few words: enough for two halves of several batches each.
    static func corpus() throws -> URL {
        let dir = try temporaryDirectory()
        let nouns = [("dog", "Hund"), ("cat", "Katze"), ("man", "Mann"), ("woman", "Frau"), ("child", "Kind")]
        let verbs = [("runs", "läuft"), ("sleeps", "schläft"), ("eats", "isst"), ("sings", "singt")]
        var en: [String] = [], de: [String] = []
        for i in 0..<80 {
            let (n, v) = (nouns[i % nouns.count], verbs[(i / nouns.count) % verbs.count])
            let n2 = nouns[(i / 3) % nouns.count]
            en.append("The \(n.0) \(v.0) with the \(n2.0).")
            de.append("Der \(n.1) \(v.1) mit dem \(n2.1).")
        }
        try (en.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.en"), atomically: true, encoding: .utf8)
        try (de.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.de"), atomically: true, encoding: .utf8)
        return dir
    }

    static let tiny = ["--src", "en", "--tgt", "de", "--d", "24", "--e", "8", "--heads", "2", "--merges", "60",
                       "--max-tokens", "96", "--warmup", "2"]

    func search(_ data: URL, _ out: URL, _ extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try revsearch(arguments: ["search", "--data", data.path, "--out", out.path] + Self.tiny + extra)
    }

    @Test func instrumentedSearchWritesGenotypeLogsAndReport() throws {
        let data = try Self.corpus(), out = try temporaryDirectory().appendingPathComponent("run")
        let result = try search(data, out, ["--max-steps", "4", "--verify-every", "2", "--profile"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("verified 2 times, all passed"))
        #expect(result.stdout.contains("report: \(out.path)/report.html"))
        for file in ["genotype.json", "alphas.csv", "losses.csv", "memory.csv", "verification.csv", "report.html", "losses.svg",
                     "memory-per-step.svg", "verification.svg", "alpha-encoder.layer1.split1.svg", "search.json", "search-step000004.safetensors",
                     "settling.csv", "settling.svg", "alpha-heatmap.svg", "memory-reference.json", "derived-encoder.svg", "derived-decoder.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "missing \(file)")
        }
        let genotype = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("genotype.json"))) as! [String: Any]
        #expect(genotype["version"] as? Int == 1)
        // Every JSON file the run writes says which version and commit wrote it.
        let stamp = try revsearch("--version").stdout
        for file in ["genotype.json", "search.json"] {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(file))) as? [String: Any]
            let writtenBy = object?["written_by"] as? [String: String]
            #expect(writtenBy.map { stamp == "revsearch \($0["version"] ?? "") (commit \($0["commit"] ?? ""))\n" } == true, "\(file): \(String(describing: writtenBy))")
        }
        let encoder = genotype["encoder"] as! [[String]]
        #expect(encoder.count == 2 && encoder.allSatisfy { $0.count == 2 && !$0.contains("zero") })
        let memoryRows = try String(contentsOf: out.appendingPathComponent("memory.csv"), encoding: .utf8).split(separator: "\n")
        #expect(memoryRows.count == 5 && memoryRows[0].hasPrefix("step,peak_activation_bytes,peak_total_bytes,peak_reserved_bytes,"))
        // The cache holds at least what its tensors do.
        #expect(memoryRows.dropFirst().allSatisfy { row in
            let fields = row.split(separator: ",").compactMap { Int($0) }
            return fields.count > 3 && fields[3] >= fields[2] && fields[2] >= fields[1]
        })
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("<svg") && report.contains("Derived genotype"))
        #expect(report.contains("The derived block (the genotype's ops, 2 + 2 layers") && report.contains("the super-network searched: "))
        #expect(report.contains("alpha's learning rate 0.0003, entropy weight 0.0, 0 warm-up steps of theta alone"))
        #expect(report.contains("post-norm ops, plain mixture"))
    }

    /// A run interrupted after a checkpoint (its logs already past it) and resumed twice
    /// ends with the alphas, genotype and losses of an uninterrupted run, and logs without
    /// repeated steps; also when alpha's warm-up ends between the checkpoint and the end
    /// (alpha's Adam then counts its own updates, not the search's steps).
    @Test(arguments: [[], ["--alpha-warmup", "4"]])
    func resumeReachesTheSameAlphasAndGenotypeAsAnUninterruptedRun(warmup: [String]) throws {
        let data = try Self.corpus(), root = try temporaryDirectory()
        let whole = root.appendingPathComponent("whole"), parts = root.appendingPathComponent("parts"), saved = root.appendingPathComponent("saved")
        #expect(try search(data, whole, ["--max-steps", "6"] + warmup).status == 0)
        #expect(try search(data, parts, ["--max-steps", "3"] + warmup).status == 0)
        try FileManager.default.createDirectory(at: saved, withIntermediateDirectories: true)
        let checkpointFiles = ["search.json", "search-step000003.safetensors"]
        for file in checkpointFiles {
            try FileManager.default.copyItem(at: parts.appendingPathComponent(file), to: saved.appendingPathComponent(file))
        }
        #expect(try search(data, parts, ["--max-steps", "5", "--resume"]).status == 0)
        // As if killed at step 5 with the last checkpoint at step 3.
        for file in checkpointFiles {
            try? FileManager.default.removeItem(at: parts.appendingPathComponent(file))
            try FileManager.default.copyItem(at: saved.appendingPathComponent(file), to: parts.appendingPathComponent(file))
        }
        let resumed = try search(data, parts, ["--max-steps", "6", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step 3"))
        func text(_ run: URL, _ file: String) throws -> String { try String(contentsOf: run.appendingPathComponent(file), encoding: .utf8) }
        #expect(try text(parts, "alphas.csv") == text(whole, "alphas.csv"))
        #expect(try text(parts, "genotype.json") == text(whole, "genotype.json"))
        func losses(_ run: URL) throws -> [String] {
            try text(run, "losses.csv").split(separator: "\n").map { $0.split(separator: ",").prefix(5).joined(separator: ",") }
        }
        #expect(try losses(parts) == losses(whole))
        #expect(try losses(parts).count == 7)
    }

    /// A fault the verifier must catch stops the search at the first check, naming the
    /// offender, with the logs, checkpoint and report of the steps done left in RUN.
    @Test(arguments: ["sign_flipped_inverse", "dropout_not_replayed", "alpha_gradient_dropped", "causal_mask_off_by_one"])
    func verificationFailureStopsTheSearch(fault: String) throws {
        let data = try Self.corpus(), out = try temporaryDirectory().appendingPathComponent("run")
        let result = try search(data, out, ["--max-steps", "6", "--verify-every", "2", "--fault", fault])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("verification failed at step 2: "), "\(result.stderr)")
        #expect(result.stdout.contains("step 2: verified reconstruction against full storage") && result.stdout.contains("FAILED"))
        let checks = try String(contentsOf: out.appendingPathComponent("verification.csv"), encoding: .utf8).split(separator: "\n")
        #expect(checks.count == 2 && checks[1].hasSuffix(",false"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    }

    @Test func aNewSearchRefusesARunThatHoldsOne() throws {
        let data = try Self.corpus(), out = try temporaryDirectory().appendingPathComponent("run")
        #expect(try search(data, out, ["--max-steps", "1"]).status == 0)
        let again = try search(data, out, ["--max-steps", "1"])
        #expect(again.status == 2 && again.stderr.contains("already holds a search") && again.stderr.contains("--resume"))
    }

    /// `genotype perturb` on a finished search: a genotype, one CSV row per removal, the run
    /// directory untouched; an existing output, a directory without a search and another
    /// corpus are refused with status 2.
    @Test func perturbDerivesAGenotypeFromTheSearchsCheckpoint() throws {
        let data = try Self.corpus(), root = try temporaryDirectory()
        let out = root.appendingPathComponent("run")
        #expect(try search(data, out, ["--max-steps", "3"]).status == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        let genotype = root.appendingPathComponent("perturbed.json").path, csv = root.appendingPathComponent("removals.csv").path
        let perturb = ["genotype", "perturb", "--run", out.path, "--data", data.path, "--src", "en", "--tgt", "de", "--batches", "2", "--threads", "1"]
        let result = try revsearch(arguments: perturb + ["--out", genotype, "--csv", csv])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("search \(out.path) at step 3: loss ") && result.stdout.contains("genotype by perturbation: \(genotype)"))
        let derived = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: genotype))) as? [String: Any]
        let encoder = derived?["encoder"] as? [[String]], decoder = derived?["decoder"] as? [[String]]
        #expect(encoder?.count == 2 && decoder?.count == 2 && !((encoder ?? []) + (decoder ?? [])).joined().contains("zero"))
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "node,op,weight,loss,increase,chosen")
        // 8 searched nodes, one chosen op each; every op but zero removed once.
        #expect(rows.dropFirst().filter { $0.hasSuffix(",1") }.count == 8)
        #expect(rows.count > 1 + 8 * 2 && !rows.contains { $0.contains(",zero,") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == before)

        let again = try revsearch(arguments: perturb + ["--out", genotype])
        #expect(again.status == 2 && again.stderr.contains("\(genotype): exists"))
        let empty = try revsearch(arguments: ["genotype", "perturb", "--run", root.path, "--data", data.path, "--src", "en", "--tgt", "de",
                                              "--out", root.appendingPathComponent("none.json").path])
        #expect(empty.status == 2 && empty.stderr.contains("no search checkpoint"), "\(empty.stderr)")
        let other = try Self.corpus()
        try "A different sentence.\n".write(to: other.appendingPathComponent("train.en"), atomically: true, encoding: .utf8)
        try "Ein anderer Satz.\n".write(to: other.appendingPathComponent("train.de"), atomically: true, encoding: .utf8)
        let wrong = try revsearch(arguments: ["genotype", "perturb", "--run", out.path, "--data", other.path, "--src", "en", "--tgt", "de",
                                              "--out", root.appendingPathComponent("wrong.json").path])
        #expect(wrong.status == 2 && wrong.stderr.contains("not the corpus this search ran on"), "\(wrong.stderr)")
    }

    /// Going over the budget stops the run with exit status 3 and a message naming the
    /// layer, the phase and the bytes, before the memory is taken (the plan's refusal is
    /// switched off to reach it).
    @Test func memoryBudgetStopsTheRunWithAnErrorNamingTheLayer() throws {
        let data = try Self.corpus(), out = try temporaryDirectory().appendingPathComponent("run")
        // The weights fit in the first 2 MiB segment; a step's activations need more.
        let result = try search(data, out, ["--max-steps", "2", "--mode", "full", "--memory-budget", "3MiB", "--no-plan-check"])
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("memory budget of 3.0 MiB (3145728 bytes) exceeded layer "))
        #expect(result.stderr.contains("bytes of") && result.stderr.contains("bytes live"))
        let bad = try search(data, out, ["--memory-budget", "two gigs"])
        #expect(bad.status == 64 && bad.stderr.contains("--memory-budget") && bad.stderr.contains("two gigs"))
    }

    /// `plan` predicts a search's peak per mode; with a budget between full storage's and
    /// reconstruction's predictions, a full-storage search is refused before it starts
    /// (status 3, the predicted peak and the mode that fits named, nothing written); a
    /// reconstruction search fits its predicted peak exactly.
    @Test func aSearchItsPlanPutsOverBudgetIsRefusedUpFront() throws {
        let data = try Self.corpus(), base = try temporaryDirectory()
        #expect(try search(data, base.appendingPathComponent("vocab-run"), ["--max-steps", "1"]).status == 0)
        let vocab = base.appendingPathComponent("vocab-run/vocab.json").path
        let plan = try revsearch(arguments: ["plan", "--step", "search", "--data", data.path, "--vocab", vocab, "--d", "24", "--e", "8",
                                             "--heads", "2", "--max-tokens", "96", "--modes", "full,reconstruction", "--json", "-"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let runs = try #require(json["runs"] as? [[String: Any]])
        let peaks = runs.compactMap { $0["peak_reserved_bytes"] as? Int }
        #expect(runs.count == 2 && peaks.count == 2
                && runs.allSatisfy { $0["peak_total_bytes"] != nil && $0["bytes_by_category_at_peak_total"] != nil && $0["layers"] != nil })
        let (full, reconstruction) = (peaks[0], peaks[1])
        #expect(full > reconstruction, "full \(full), reconstruction \(reconstruction)")
        let budget = String((full + reconstruction) / 2)
        let refusedRun = base.appendingPathComponent("refused")
        let refused = try search(data, refusedRun, ["--max-steps", "3", "--mode", "full", "--vocab", vocab, "--memory-budget", budget])
        #expect(refused.status == 3, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("would be exceeded") && refused.stderr.contains("predicts a peak of") && refused.stderr.contains("\(full) bytes"))
        #expect(refused.stderr.contains("modes that fit: ") && refused.stderr.contains("reconstruction ("), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: refusedRun.appendingPathComponent("search.json").path))
        // The prediction is exact: the real search fits a budget of the predicted peak to the
        // byte, and goes over one byte less (with the plan's refusal switched off to see it).
        let exact = ["--max-steps", "3", "--mode", "reconstruction", "--vocab", vocab, "--memory-budget"]
        let fits = try search(data, base.appendingPathComponent("fits"), exact + [String(reconstruction)])
        #expect(fits.status == 0, "\(fits.stdout)\(fits.stderr)")
        let over = try search(data, base.appendingPathComponent("over"), exact + [String(reconstruction - 1), "--no-plan-check"])
        #expect(over.status == 3 && over.stderr.contains("exceeded"), "\(over.stdout)\(over.stderr)")
    }

    /// A search that diverges stops at that step with status 1, naming it and the last good
    /// checkpoint, and leaves that checkpoint's genotype and the report. The divergence is
    /// planted: a format-1 (unchecked) checkpoint whose weights hold a NaN is resumed.
    @Test func aDivergedSearchStopsAtItsStepAndReportsTheLastGoodOne() throws {
        let data = try Self.corpus(), out = try temporaryDirectory().appendingPathComponent("run")
        #expect(try search(data, out, ["--max-steps", "2"]).status == 0)
        let json = out.appendingPathComponent("search.json")
        var lines = try String(contentsOf: json, encoding: .utf8).components(separatedBy: "\n")
        lines.removeAll { $0.contains("\"checksum\"") || $0.contains("\"weights_sha256\"") }
        let text = lines.joined(separator: "\n").replacingOccurrences(of: "revsearch-search-checkpoint-2", with: "revsearch-search-checkpoint-1")
        try text.write(to: json, atomically: true, encoding: .utf8)
        let weights = out.appendingPathComponent("search-step000002.safetensors")
        var bytes = try Data(contentsOf: weights)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let (_, entry) = header.first { $0.key.hasSuffix("ffn.fc1.weight") || $0.key.hasSuffix("q_proj.weight") }!
        let begin = 8 + headerLength + ((entry as! [String: Any])["data_offsets"] as! [Int])[0]
        withUnsafeBytes(of: Float.nan) { bytes.replaceSubrange(begin..<(begin + 4), with: $0) }
        try bytes.write(to: weights)
        try FileManager.default.removeItem(at: out.appendingPathComponent("genotype.json"))
        let resumed = try search(data, out, ["--max-steps", "4", "--resume"])
        #expect(resumed.status == 1, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("step 3: the search diverged") && resumed.stderr.contains("The last good checkpoint is at step 2"), "\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("genotype.json").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    }
}
