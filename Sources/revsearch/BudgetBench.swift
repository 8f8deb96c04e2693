import ArgumentParser
import Foundation
import InstrumentedRun
import Profiler
import RunFiles
import TensorCore
import Verifier

/// `revsearch bench budget`: the paper's headline at our scale — the largest hidden size d
/// whose search fits a fixed memory budget, in each backprop mode — and the search step
/// time of the modes at one d where all fit.
///
/// Every probe is a real `revsearch search` child process with `--memory-budget`: it either
/// completes its steps (fits) or stops with the budget's error, exit status 3 (does not
/// fit). Bisection over d in multiples of `granularity` (d must divide by n and n + 1 and
/// each split by the heads) assumes memory grows with d, which it does in every category.
struct BudgetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Largest d that can search under a memory budget, per backprop mode (child `revsearch search` processes)."
    )

    @Option(help: "Corpus directory.") var data: String
    @Option(help: "Source language.") var src = "en"
    @Option(help: "Target language.") var tgt = "de"
    @Option(help: "Vocabulary file (learn one with `revsearch vocab` first; every probe reuses it).") var vocab: String
    @Option(help: "Memory budget.") var budget = "2GiB"
    @Option(help: "Backprop modes to compare.") var modes = "full,reconstruction"
    @Option(help: "Search steps each probe must complete.") var steps = 3
    @Option(help: "s: searched layers.") var layers = 2
    @Option(help: "Tokens per batch.") var maxTokens = 2048
    @Option(help: "d moves in multiples of this (24: divisible by 2 and 3 splits, 4 heads per split).") var granularity = 24
    @Option(help: "Largest d tried.") var limit = 2400
    @Option(help: "Steps timed per mode at the common d (0: no timing).") var timedSteps = 6
    @Option(help: "OpenBLAS threads.") var threads = 2

    struct Probe {
        let fits: Bool
        let peakActivation: String?
        let message: String
    }

    func validate() throws {
        try OptionRanges.whole("steps", steps, 1...1_000_000)
        try OptionRanges.layers("layers", layers)
        try OptionRanges.tokens("max-tokens", maxTokens)
        try OptionRanges.width("granularity", granularity)
        try OptionRanges.width("limit", limit)
        try OptionRanges.whole("timed-steps", timedSteps, 0...1_000_000)
        try OptionRanges.threads(threads)
    }

    func run() throws {
        guard let bytes = MemoryBudget.parseSize(budget) else {
            throw ValidationError("--budget: expected a size such as 2GiB, found \"\(budget)\"")
        }
        let modeList = try parseModes(modes, option: "--modes").map(\.description)
        print("OpenBLAS core: \(BLAS.coreName), threads \(threads); budget \(budget) (\(bytes) bytes), \(steps) search steps per probe, "
              + "s = \(layers), \(maxTokens) tokens per batch")
        var largest: [String: Int] = [:]
        for mode in modeList {
            var low = 0, high = limit / granularity + 1   // fits(low * g) (0: nothing yet), !fits(high * g)
            var lastFail = ""
            while high - low > 1 {
                let mid = (low + high) / 2
                let probe = try self.probe(d: mid * granularity, mode: mode, budget: budget, steps: steps)
                print("  \(mode) d = \(mid * granularity): " + (probe.fits ? "fits (peak activation \(probe.peakActivation ?? "?"))" : "over budget"))
                fflush(nil)
                if probe.fits { low = mid } else { high = mid; lastFail = probe.message }
            }
            largest[mode] = low * granularity
            print("\(mode): largest d under \(budget) = \(low * granularity)" + (lastFail.isEmpty ? "" : "; at d = \(high * granularity): \(lastFail)"))
        }
        guard timedSteps > 0, let common = largest.values.min(), common > 0 else { return }
        print("search step time at d = \(common) (\(timedSteps) steps, median):")
        var medians: [String: Double] = [:]
        for mode in modeList {
            let out = try temporaryRun()
            defer { try? FileManager.default.removeItem(atPath: out) }
            _ = try child(d: common, mode: mode, budget: nil, steps: timedSteps, out: out)
            let seconds = CSVLog.rows("\(out)/losses.csv").compactMap { Double($0[6]) }
            let perStep = zip(seconds.dropFirst(), seconds).map { $0 - $1 }.sorted()
            medians[mode] = perStep.isEmpty ? .nan : perStep[perStep.count / 2]
            print("  \(mode): \(fixed(medians[mode]!, 2)) s per step (alpha + theta)")
        }
        if let first = modeList.first, let base = medians[first] {
            for mode in modeList.dropFirst() { print("  \(mode) / \(first) = \(fixed(medians[mode]! / base, 2))") }
        }
    }

    func temporaryRun() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-budget-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func probe(d: Int, mode: String, budget: String, steps: Int) throws -> Probe {
        let out = try temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, stdout, stderr) = try child(d: d, mode: mode, budget: budget, steps: steps, out: out)
        switch status {
        case 0:
            let peak = stdout.split(separator: "\n").first { $0.hasPrefix("peak activation memory of a step: ") }
            return Probe(fits: true, peakActivation: peak.map { String($0.dropFirst("peak activation memory of a step: ".count)) }, message: "")
        case 3:
            return Probe(fits: false, peakActivation: nil, message: stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        default:
            throw InputError("revsearch search at d = \(d), \(mode) failed with status \(status):\n\(stderr)")
        }
    }

    func child(d: Int, mode: String, budget: String?, steps: Int, out: String) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["search", "--data", data, "--src", src, "--tgt", tgt, "--out", "\(out)/run", "--vocab", vocab,
                             "--d", String(d), "--mode", mode, "--layers", String(layers), "--max-tokens", String(maxTokens),
                             "--max-steps", String(steps), "--checkpoint-every", "1000000", "--profile", "--threads", String(threads)]
            + (budget.map { ["--memory-budget", $0] } ?? [])
        let stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        let stdout = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        let stderr = stderrPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
