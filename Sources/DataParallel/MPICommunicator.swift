import CMPI
import Foundation
import Translation

/// MPI_COMM_WORLD of a run started by `mpirun` (or `srun --mpi=pmix`). MPI is initialised only
/// when a launcher started the process: a plain `revsearch` stays a single process and never
/// touches MPI.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int

    /// The world communicator when a launcher started this process, else nil.
    public static func launched(environment: [String: String] = ProcessInfo.processInfo.environment) -> MPICommunicator? {
        // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx launchers (srun --mpi=pmix) PMIX_RANK; PMI-1/2 PMI_RANK.
        let markers = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]
        guard markers.contains(where: { environment[$0] != nil }) else { return nil }
        return MPICommunicator()
    }

    /// The number of processes an MPI launcher started, when one started this process (Open
    /// MPI's mpirun, PMI launchers), else nil. Slurm's own variables are not read: they are set
    /// in a whole batch script too, where a command runs as one process.
    public static func launchedSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let size = environment[name].flatMap({ Int($0) }) { return size }
        }
        return nil
    }

    private init() {
        // MPI's default error handler aborts the whole job on a communication error.
        _ = revsearch_mpi_init()
        rank = Int(revsearch_mpi_rank())
        size = Int(revsearch_mpi_size())
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        _ = revsearch_mpi_sum(base, Int32(values.count))
    }

    public func gather(_ values: [Double]) -> [[Double]] {
        guard !values.isEmpty else { return Array(repeating: [], count: size) }
        var all = [Double](repeating: 0, count: values.count * size)
        values.withUnsafeBufferPointer { mine in
            all.withUnsafeMutableBufferPointer { _ = revsearch_mpi_gather(mine.baseAddress!, Int32(values.count), $0.baseAddress!) }
        }
        return (0..<size).map { Array(all[$0 * values.count ..< ($0 + 1) * values.count]) }
    }

    public func barrier() { _ = revsearch_mpi_barrier() }

    /// Ends every rank of the job with `status` (mpirun exits with it).
    public func abort(status: Int32) -> Never {
        revsearch_mpi_abort(status)
        exit(status)
    }

    /// The job's normal end: every rank must call it.
    public func finalize() { _ = revsearch_mpi_finalize() }
}
