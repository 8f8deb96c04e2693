import Foundation
import InstrumentedRun
import RunFiles

extension ProbeScenarios {
    /// `revsearch search --memory-budget` at the edge, in child processes (going over ends
    /// the process): a short search on a corpus under a budget far above its needs reports
    /// its peak P of reserved bytes; the same search under a budget of exactly P must finish
    /// (its plan agreeing), under P - 1 its plan must refuse it up front, and with the plan
    /// switched off it must stop with status 3 at the reservation that crosses the budget:
    /// the bytes reserved before it at most the budget, after it above. Hash seeding is
    /// fixed in the children so their allocations repeat to the byte.
    static func memoryBudget(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let data = try parameters.path("data", default: "../Fixtures/toy")
        let steps = try parameters.int("steps", in: 1...1000) ?? 1
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-probe-budget-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard let executable = Bundle.main.executableURL else { throw InputError("\(parameters.file): cannot locate the revsearch executable") }

        var runs = 0
        func search(budget: Int, planCheck: Bool = true) throws -> (status: Int32, output: String) {
            runs += 1
            let process = Process()
            process.executableURL = executable
            process.arguments = ["search", "--data", data, "--src", "en", "--tgt", "de", "--out", scratch.appendingPathComponent("run\(runs)").path,
                                 "--d", "48", "--e", "32", "--heads", "2", "--max-tokens", "256", "--merges", "300",
                                 "--max-steps", "\(steps)", "--threads", "1", "--memory-budget", "\(budget)"] + (planCheck ? [] : ["--no-plan-check"])
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_DETERMINISTIC_HASHING"] = "1"
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        func integer(_ pattern: String, in text: String) -> Int? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let range = Range(match.range(at: 1), in: text) else { return nil }
            return Int(text[range])
        }
        let peakPattern = #"peak reserved tensor memory \(all categories\): [^(]*\((\d+) bytes\)"#

        let roomy = try search(budget: 1 << 40)
        guard roomy.status == 0, let peak = integer(peakPattern, in: roomy.output) else {
            throw InputError("\(parameters.file): the search under a 1 TiB budget failed (status \(roomy.status)):\n\(roomy.output)")
        }
        let exact = try search(budget: peak)
        let refused = try search(budget: peak - 1)
        let below = try search(budget: peak - 1, planCheck: false)
        let reserved = integer(#"bytes live and (\d+) reserved"#, in: below.output)
        let segment = integer(#"a new segment of (\d+)\)"#, in: below.output)
        var crossing = 0.0
        if let reserved, let segment, reserved <= peak - 1, reserved + segment > peak - 1 { crossing = 1 }
        return [
            "peak_bytes": Double(peak),
            "exact_budget_status": Double(exact.status),
            "exact_budget_peak_bytes": Double(integer(peakPattern, in: exact.output) ?? -1),
            "below_peak_status": Double(below.status),
            "below_peak_planned_refusal": refused.status == 3 && refused.output.contains("would be exceeded") ? 1 : 0,
            "stopped_at_crossing_allocation": crossing,
        ]
    }
}
