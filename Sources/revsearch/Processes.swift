import ArgumentParser
import DataParallel
import Foundation
import InstrumentedRun
import Translation

/// The processes this invocation is one of: the MPI job `mpirun -np N` (or `srun
/// --mpi=pmix`) started, for `search` and `train`, which run data-parallel; else this
/// process alone. Other commands started as one of several processes are refused: N copies
/// of a translation would write the same output N times.
enum Processes {
    /// The MPI world, once `join` has joined it (set before any command runs, read after).
    nonisolated(unsafe) private(set) static var world: MPICommunicator?

    /// Whether this process is part of an MPI job.
    static var joined: Bool { world != nil }

    /// The communicator a run uses.
    static var communicator: Communicator { world ?? SingleProcess() }

    /// Joins the job a launcher started, if any. Only rank 0 keeps its standard output (the
    /// progress and the summary); every rank reports its errors on standard error.
    static func join(for command: ParsableCommand) throws {
        let dataParallel = command is SearchCommand || command is TrainCommand
        guard dataParallel else {
            if let size = MPICommunicator.launchedSize(), size > 1 {
                throw InputError("started as one of \(size) processes (mpirun -np \(size)): only search and train run data-parallel; "
                                 + "run this command as one process", usage: true)
            }
            return
        }
        guard let world = MPICommunicator.launched() else { return }
        self.world = world
        if world.rank != 0 {
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        }
    }

    /// "rank r of N: " in a job of several processes, else nothing.
    static var place: String {
        guard let world, world.size > 1 else { return "" }
        return "rank \(world.rank) of \(world.size): "
    }

    /// Ends this process with `status`; in a job, every process of it (mpirun exits with `status`).
    static func end(_ status: Int32) -> Never {
        if let world { world.abort(status: status) }
        exit(status)
    }

    /// The normal end: every process of a job must reach it.
    static func finish() { world?.finalize() }
}
