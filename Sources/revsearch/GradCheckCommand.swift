import Foundation
import ArgumentParser
import TensorCore
import Verifier

/// `revsearch gradcheck`: every registered primitive against central finite differences
/// in Float64, with torch.autograd.gradcheck's tolerances.
struct GradCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check every primitive's backward against Float64 finite differences."
    )

    @Option(name: .customLong("json"), help: "Write the report as JSON to this path.")
    var jsonPath: String?

    @Option(help: "Check only these ops (comma-separated names from --list).")
    var ops: String?

    @Flag(help: "List the op names and exit.")
    var list = false

    @Option(help: "Seed of the random inputs, cotangents and directions.")
    var seed: UInt64 = 0

    @Option(help: "Finite-difference step.") var eps = 1e-6
    @Option(help: "Absolute tolerance.") var atol = 1e-5
    @Option(help: "Relative tolerance.") var rtol = 1e-3

    func run() throws {
        if list {
            print(PrimitiveCatalog.ops.joined(separator: "\n"))
            return
        }
        var only: Set<String>?
        if let ops {
            let names = ops.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let known = Set(PrimitiveCatalog.ops)
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw ValidationError("--ops: unknown op '\(unknown)'; known ops: \(PrimitiveCatalog.ops.joined(separator: ", "))")
            }
            only = Set(names)
        }
        let report = GradCheckReport.run(only: only, tolerance: .init(eps: eps, atol: atol, rtol: rtol), seed: seed)
        print(render(report))
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
        if !report.passed { throw ExitCode(1) }
    }

    func render(_ report: GradCheckReport) -> String {
        var table = Table("op", "shape", "mode", "checked", "max abs error", "max rel error", "pass")
        for r in report.ops {
            table.add(r.op, r.shape, r.mode.rawValue, String(r.comparisons), sci(r.maxAbsError), sci(r.maxRelError), r.passed ? "yes" : "NO")
        }
        let failed = report.ops.filter { !$0.passed }.count
        return table.rendered + "\n\n" +
            "\(report.ops.count) cases over \(report.distinctOps) ops: \(report.ops.count - failed) passed, \(failed) failed " +
            "(eps \(report.tolerance.eps), atol \(report.tolerance.atol), rtol \(report.tolerance.rtol))"
    }
}
