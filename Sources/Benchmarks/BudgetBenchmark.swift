import Foundation
import InstrumentedRun

/// What `revsearch bench budget` measures: whether a search of width d fits a memory
/// budget, by running a real `revsearch search` child process with `--memory-budget` (it
/// completes its steps, or stops with the budget's error, status 3), the largest d that
/// fits by bisection over multiples of `granularity` (memory grows with d in every
/// category), and the step time of a search at one d.
package struct BudgetBenchmark {
    /// A search child's settings besides d, the mode and the budget.
    package let executable: URL
    package let data: String
    package let source: String
    package let target: String
    package let vocabulary: String
    package let layers: Int
    package let maxTokens: Int
    package let threads: Int

    package init(executable: URL, data: String, source: String, target: String, vocabulary: String, layers: Int, maxTokens: Int, threads: Int) {
        self.executable = executable; self.data = data; self.source = source; self.target = target; self.vocabulary = vocabulary
        self.layers = layers; self.maxTokens = maxTokens; self.threads = threads
    }

    package struct Probe {
        package let fits: Bool
        /// The child's "peak activation memory of a step" figure, when it fit.
        package let peakActivation: String?
        /// The budget's error, when it did not.
        package let message: String
    }

    /// The largest multiple of `granularity` up to `limit` whose search fits (0: none), the
    /// next one up (which did not, or was past the limit) and the error it stopped with;
    /// `progress` hears of every probe.
    package func largest(mode: String, budget: String, steps: Int, granularity: Int, limit: Int,
                         progress: (Int, Probe) -> Void) throws -> (d: Int, over: Int, failure: String) {
        var low = 0, high = limit / granularity + 1   // fits(low * g) (0: nothing yet), !fits(high * g)
        var lastFail = ""
        while high - low > 1 {
            let mid = (low + high) / 2
            let probe = try self.probe(d: mid * granularity, mode: mode, budget: budget, steps: steps)
            progress(mid * granularity, probe)
            if probe.fits { low = mid } else { high = mid; lastFail = probe.message }
        }
        return (low * granularity, high * granularity, lastFail)
    }

    /// The median seconds of a search step (alpha + theta) at `d`, from the child's log.
    package func stepTime(d: Int, mode: String, steps: Int) throws -> Double {
        let out = try temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try child(d: d, mode: mode, budget: nil, steps: steps, out: out)
        let seconds = CSVLog.rows("\(out)/run/losses.csv").compactMap { Double($0[6]) }
        let perStep = zip(seconds.dropFirst(), seconds).map { $0 - $1 }
        return median(perStep)
    }

    func temporaryRun() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-budget-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    package func probe(d: Int, mode: String, budget: String, steps: Int) throws -> Probe {
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
        process.executableURL = executable
        process.arguments = ["search", "--data", data, "--src", source, "--tgt", target, "--out", "\(out)/run", "--vocab", vocabulary,
                             "--d", String(d), "--mode", mode, "--layers", String(layers), "--max-tokens", String(maxTokens),
                             "--max-steps", String(steps), "--checkpoint-every", "1000000", "--profile", "--threads", String(threads),
                             // A real measurement: the child runs until the budget stops it, not until its own plan refuses.
                             "--no-plan-check"]
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
