import Translation

/// Who touches a run's files in a data-parallel run: rank 0 claims the directory and writes
/// every file; the other ranks only read, and only what rank 0 has finished writing.
extension RunDirectory {
    /// The claimed directory on rank 0 (nil on the others), returned once rank 0 holds it:
    /// a failure to claim it ends the job before any rank reads from it.
    static func forRank(_ path: String, kind: String, checkpointName: String, resume: Bool, _ communicator: Communicator) throws -> RunDirectory? {
        try communicator.rankZeroFirst {
            communicator.writesFiles ? try RunDirectory(path, kind: kind, checkpointName: checkpointName, resume: resume) : nil
        }
    }
}

extension Communicator {
    /// `body` on rank 0, then on the other ranks once rank 0 has returned from it: what rank 0
    /// writes there (a vocabulary), the others read.
    func rankZeroFirst<T>(_ body: () throws -> T) throws -> T {
        guard size > 1 else { return try body() }
        if rank == 0 {
            let result = try body()
            barrier()
            return result
        }
        barrier()
        return try body()
    }

    /// Rank 0's `value` on every process (the others' are ignored).
    func fromRankZero(_ value: Int) -> Int {
        size > 1 ? Int(summed(rank == 0 ? Double(value) : 0)) : value
    }

    /// Whether `flag` holds on any process: what every process decides together, such as
    /// stopping at a time limit each measures on its own clock (one stopping alone would
    /// leave the others waiting in the next step's sums).
    func any(_ flag: Bool) -> Bool {
        size > 1 ? summed(flag ? 1 : 0) > 0 : flag
    }

    /// `value` summed over the processes.
    private func summed(_ value: Double) -> Double {
        var total = [value]
        total.withUnsafeMutableBufferPointer { sum($0) }
        return total[0]
    }
}
