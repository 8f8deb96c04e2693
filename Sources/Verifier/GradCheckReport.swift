import TensorCore

/// The result of checking a table of cases: what `revsearch gradcheck --json` writes.
public struct GradCheckReport: Sendable, Codable {
    public let passed: Bool
    public let tolerance: GradCheckTolerance
    public let ops: [GradCheckResult]

    /// Runs `cases` (every primitive and every standard candidate op by default), optionally only those whose op is in `only`.
    public static func run(
        _ cases: [GradCheckCase] = defaultCases, only: Set<String>? = nil,
        tolerance: GradCheckTolerance = .init(), seed: UInt64 = 0
    ) -> GradCheckReport {
        let selected = cases.filter { only?.contains($0.op) ?? true }
        let results = selected.map { GradCheck.run($0, tolerance: tolerance, seed: seed) }
        return GradCheckReport(passed: !results.isEmpty && results.allSatisfy(\.passed), tolerance: tolerance, ops: results)
    }

    /// Worst absolute and relative errors over all rows.
    public var maxAbsError: Double { ops.map(\.maxAbsError).max() ?? 0 }
    public var maxRelError: Double { ops.map(\.maxRelError).max() ?? 0 }
    /// Every primitive and every standard candidate op ("op:" + its name).
    public static var defaultCases: [GradCheckCase] { PrimitiveCatalog.cases + CandidateOpCatalog.standardCases }

    /// The distinct op names of `defaultCases`, in table order.
    public static var opNames: [String] {
        var seen = Set<String>()
        return defaultCases.map(\.op).filter { seen.insert($0).inserted }
    }

    /// The largest Float32 error as a fraction of its bound (forward or gradient): under 1 passes.
    public var maxFloat32BoundFraction: Double {
        ops.map { max($0.float32.forwardError / $0.float32.forwardBound, $0.float32.gradientError / $0.float32.gradientBound) }
            .maxOrNaN
    }
    /// Distinct op names checked.
    public var distinctOps: Int { Set(ops.map(\.op)).count }
}
