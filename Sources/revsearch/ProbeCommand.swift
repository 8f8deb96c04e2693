import ArgumentParser
import Foundation
import InstrumentedRun
import Probing
import RunFiles
import Verifier

/// `revsearch probe PATH...`: runs declarative probe files (or every *.json in a
/// directory) and checks their expectations; exit status 1 if any fails.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run instrumented scenarios described by probe files and check their expectations."
    )

    @Argument(help: "Probe files, or directories whose *.json files are all run.")
    var paths: [String]

    func run() throws {
        let files = try paths.flatMap(expand)
        guard !files.isEmpty else { throw InputError("no probe files found in \(paths.joined(separator: " "))") }
        // Read every file first, so a malformed probe fails before anything long runs.
        let probes = try files.map(Probe.init(file:))
        var failures = 0
        for probe in probes {
            guard let scenario = ProbeScenarios.all[probe.scenario] else {
                throw InputError("\(probe.file): field 'scenario': unknown scenario '\(probe.scenario)'; known: \(ProbeScenarios.all.keys.sorted().joined(separator: ", "))")
            }
            print("probe \(probe.name) (\(probe.file)) — \(probe.description)")
            var parameters = probe.parameters
            let start = Date()
            let metrics = try scenario(&parameters)
            try parameters.finish()
            for key in metrics.keys.sorted() { print("  \(key) = \(metrics[key]!)") }
            for expectation in probe.expectations {
                guard let value = metrics[expectation.metric] else {
                    throw InputError("\(probe.file): expect: unknown metric '\(expectation.metric)' for scenario \(probe.scenario); it reports: \(metrics.keys.sorted().joined(separator: ", "))")
                }
                let ok = expectation.holds(value)
                if !ok { failures += 1 }
                print("  \(ok ? "ok  " : "FAIL") \(expectation.text)  (measured \(value))")
            }
            print("  took \(fixed(Date().timeIntervalSince(start), 1)) s\n")
        }
        let total = probes.reduce(0) { $0 + $1.expectations.count }
        print("probes: \(total - failures) passed, \(failures) failed")
        if failures > 0 { throw ExitCode(1) }
    }

    private func expand(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError("\(path): no such probe file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".json") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }
}
