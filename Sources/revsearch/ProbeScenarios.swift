import TensorCore
import Verifier

/// The scenarios a probe can name. Each reads its parameters (unknown ones are errors)
/// and returns named metrics for the probe's expectations; booleans are 1 or 0.
enum ProbeScenarios {
    typealias Run = @Sendable (inout JSONObjectReader) throws -> [String: Double]

    static let all: [String: Run] = [
        "gradcheck": gradcheck,
    ]

    /// The primitive gradient-check table, as `revsearch gradcheck` runs it.
    static func gradcheck(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let ops = try parameters.strings("ops") ?? ["all"]
        let seed = try parameters.int("seed") ?? 0
        var tolerance = GradCheckTolerance()
        if let eps = try parameters.number("eps") { tolerance.eps = eps }
        if let atol = try parameters.number("atol") { tolerance.atol = atol }
        if let rtol = try parameters.number("rtol") { tolerance.rtol = rtol }
        var only: Set<String>?
        if ops != ["all"] {
            let known = Set(PrimitiveCatalog.ops)
            if let unknown = ops.first(where: { !known.contains($0) }) {
                throw parameters.error("ops", "unknown op '\(unknown)'; known: all, \(PrimitiveCatalog.ops.joined(separator: ", "))")
            }
            only = Set(ops)
        }
        let report = GradCheckReport.run(only: only, tolerance: tolerance, seed: UInt64(seed))
        return [
            "passed": report.passed ? 1 : 0,
            "cases": Double(report.ops.count),
            "failed_cases": Double(report.ops.filter { !$0.passed }.count),
            "ops_checked": Double(report.distinctOps),
            "max_abs_error": report.maxAbsError,
            "max_rel_error": report.maxRelError,
        ]
    }
}
