import Foundation
import ArgumentParser
import InstrumentedRun
import TensorCore
import Verifier

/// `revsearch gradcheck`: every registered primitive against central finite differences
/// in Float64, with torch.autograd.gradcheck's tolerances, and its Float32 forward and
/// backward against Float64 within a rounding bound k·u·κ.
struct GradCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check every primitive's backward against Float64 finite differences, and its Float32 kernels against Float64."
    )

    @Option(name: .customLong("json"), help: "Write the report as JSON to this path (-: standard output).")
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

    func validate() throws {
        try OptionRanges.number("eps", eps, 1e-12...1, "a step in [1e-12, 1]")
        try OptionRanges.number("atol", atol, 0...1, "a tolerance in [0, 1]")
        try OptionRanges.number("rtol", rtol, 0...1, "a tolerance in [0, 1]")
    }

    func run() throws {
        if list {
            print(GradCheckReport.opNames.joined(separator: "\n"))
            return
        }
        var only: Set<String>?
        if let ops {
            let names = ops.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty else { throw ValidationError("--ops: expected op names (see --list), found \"\(ops)\"") }
            let known = Set(GradCheckReport.opNames)
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw ValidationError("--ops: unknown op '\(unknown)'; known ops: \(GradCheckReport.opNames.joined(separator: ", "))")
            }
            only = Set(names)
        }
        let report = GradCheckReport.run(only: only, tolerance: .init(eps: eps, atol: atol, rtol: rtol), seed: seed)
        print(render(report))
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
        if !report.passed { throw ExitCode(1) }
    }

    func render(_ report: GradCheckReport) -> String {
        var table = TextTable("op", "shape", "mode", "checked", "fd abs error", "fd rel error", "k", "f32 fwd err", "bound", "f32 grad err",
                          "bound", "pass")
        for r in report.ops {
            let f = r.float32
            table.add(r.op, r.shape, r.mode.rawValue, String(r.comparisons), sci(r.maxAbsError), sci(r.maxRelError), String(f.roundings),
                      sci(f.forwardError), sci(f.forwardBound), sci(f.gradientError), sci(f.gradientBound),
                      r.passed ? "yes" : (r.finiteDifferencesPassed ? "NO (f32)" : "NO"))
        }
        let failed = report.ops.filter { !$0.passed }.count
        return table.rendered + "\n\n" +
            "Finite differences: Float64, eps \(report.tolerance.eps), atol \(report.tolerance.atol), rtol \(report.tolerance.rtol).\n" +
            "Float32 vs Float64 on the same inputs: relative error within k·u·max(1, κ), u = 2^-24, k the roundings on the longest\n" +
            "chain, κ the Float64 computation's measured condition (largest error / bound: \(sci(report.maxFloat32BoundFraction))).\n" +
            "\(report.ops.count) cases over \(report.distinctOps) ops: \(report.ops.count - failed) passed, \(failed) failed"
    }
}
