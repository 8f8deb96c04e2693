/// The processes a data-parallel run spans. A run on one process uses `SingleProcess`; under
/// `mpirun` the CLI passes an MPI communicator (the DataParallel target), so the training
/// and search loops know nothing of MPI.
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< size; rank 0 alone writes the run's files.
    var rank: Int { get }
    var size: Int { get }
    /// Sums `values` element-wise over all processes, in place: every process ends with the
    /// same sums. Every process must call it with the same count, in the same order.
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Every process's `values` (the same count on each), in rank order.
    func gather(_ values: [Double]) -> [[Double]]
    /// Returns once every process has called it.
    func barrier()
}

public extension Communicator {
    /// Whether this process writes the run's files (checkpoints, logs, the report).
    var writesFiles: Bool { rank == 0 }
}

/// Process `rank` of `size` in a plan: its share of every batch is shaped as in the run, but
/// nothing is summed (a shape-only dry run's gradients hold no values, and a plan needs no
/// other process).
public final class PlannedProcess: Communicator {
    public let rank: Int
    public let size: Int
    public init(rank: Int, of size: Int) { self.rank = rank; self.size = size }
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func gather(_ values: [Double]) -> [[Double]] { Array(repeating: values, count: size) }
    public func barrier() {}
}

/// One process: sums are the values themselves.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func gather(_ values: [Double]) -> [[Double]] { [values] }
    public func barrier() {}
}
