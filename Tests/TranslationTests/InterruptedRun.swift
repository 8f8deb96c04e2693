import Foundation
import Translation

/// A training run stopped after a checkpoint and continued in a fresh trainer (as after the
/// process was killed), next to the same run uninterrupted: what the resume tests compare.
struct InterruptedRun {
    let uninterrupted: Trainer
    let resumed: Trainer
    /// The losses of the first part, then of the resumed part.
    let losses: [Double]
    let checkpoint: Checkpoint

    /// `make` builds a fresh trainer; `rebuild` builds the one that resumes, from the
    /// checkpoint's record alone.
    init(stopAfter stop: Int, total: Int, make: () -> Trainer, rebuild: (Checkpoint) throws -> Trainer) throws {
        uninterrupted = make()
        for _ in 0..<total { uninterrupted.trainStep() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: Trainer? = make()
        for _ in 0..<stop { first!.trainStep() }
        try first!.checkpoint(vocabulary: "vocab.json", name: "checkpoint")
            .save(directory: directory, name: "checkpoint", parameters: first!.model.parameters, optimizer: first!.optimizer)
        let before = first!.losses
        first = nil
        checkpoint = try Checkpoint.load(directory + "/checkpoint.json")
        resumed = try rebuild(checkpoint)
        try resumed.resume(from: checkpoint, directory: directory)
        for _ in stop..<total { resumed.trainStep() }
        losses = before + resumed.losses
    }
}
