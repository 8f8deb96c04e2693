import Foundation
import TensorCore
import Translation

/// A run's directory, held for the life of the run. An exclusive `flock` on its lock file
/// keeps a second run (a second `search` or `train` into the same `--out`, in this process
/// or another) from interleaving its files with this one's; the kernel drops the lock when
/// the process ends, however it ends. A fresh run needs a new or empty directory; `--resume`
/// needs one holding the checkpoint. What a killed checkpoint write left behind is swept
/// once the checkpoint is known (`sweep`).
public final class RunDirectory {
    let path: String
    let checkpointName: String
    private let lock: Int32
    static let lockFile = ".revsearch.lock"

    /// Claims `path` for a run of `kind` ("search", "training") whose checkpoint is
    /// `<checkpointName>.json`.
    public init(_ path: String, kind: String, checkpointName: String, resume: Bool) throws {
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else { throw InputError("--out: expected a directory, found an empty path", usage: true) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw InputError("\(path): --out exists and is not a directory")
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw InputError("\(path): cannot create the run directory: \(IOErrorText.describe(error))")
        }
        let descriptor = open("\(path)/\(RunDirectory.lockFile)", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw InputError("\(path): cannot open its lock file: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw InputError("\(path): another revsearch run is using this directory; wait for it to end or choose another --out")
        }
        self.path = path
        self.checkpointName = checkpointName
        lock = descriptor
        let checkpoint = "\(path)/\(checkpointName).json"
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint)
        if resume {
            guard hasCheckpoint else { throw InputError("\(path): --resume, but the directory holds no \(kind) checkpoint (\(checkpointName).json)") }
        } else if hasCheckpoint {
            throw InputError("\(path) already holds a \(kind) (\(checkpoint)): continue it with --resume, or choose another --out")
        } else {
            let others = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0 != RunDirectory.lockFile && !($0.hasPrefix(".") && $0.contains(".tmp-")) }.sorted()
            if !others.isEmpty {
                throw InputError("\(path): not empty and holds no \(kind) checkpoint (it has \(others.prefix(3).joined(separator: ", "))\(others.count > 3 ? ", ..." : "")); "
                               + "choose a new or empty --out (a run stopped before its first checkpoint leaves files too: remove them to start over)")
            }
        }
    }

    /// Removes temporary files and weights no committed checkpoint names (`keeping`).
    public func sweep(keeping weights: String?) {
        CheckpointCommit.sweep(directory: path, name: checkpointName, keeping: weights)
    }

    deinit { close(lock) }
}
