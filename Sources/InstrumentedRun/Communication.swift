import Translation

/// How a run's steps split their time between computing and summing gradients over the
/// processes (`mpirun -np N`): the figures `revsearch train|search` print at the end.
public struct Communication: Sendable {
    /// Processes in the run.
    public let processes: Int
    /// Seconds of all steps this process ran, and of the gradient sums within them (which
    /// include waiting for the slowest process).
    public let stepSeconds: Double
    public let sumSeconds: Double
    /// Float64 bytes this process sent into sums, and the number of MPI_Allreduce calls.
    public let bytes: Int
    public let calls: Int

    init(_ reduction: GradientReduction, stepSeconds: Double) {
        processes = reduction.communicator.size
        self.stepSeconds = stepSeconds
        sumSeconds = reduction.seconds
        bytes = reduction.bytes
        calls = reduction.calls
    }

    /// The share of step time spent summing gradients.
    public var fraction: Double { stepSeconds > 0 ? sumSeconds / stepSeconds : 0 }

    /// One line for a run's summary; nil on one process.
    public var summary: String? {
        guard processes > 1 else { return nil }
        return "data parallel over \(processes) processes: gradient sums took \(String(format: "%.1f", 100 * fraction))% of this process's step time "
            + "(\(String(format: "%.2f", sumSeconds)) of \(String(format: "%.2f", stepSeconds)) s), \(bytes) bytes in \(calls) MPI_Allreduce calls"
    }
}
