import Foundation
import TensorCore
import Testing
import Translation

/// A checkpoint is one commit: whatever state a killed write leaves, loading gives the last
/// committed pair or a clear refusal, never weights of one step with the JSON of another;
/// and a changed byte anywhere is refused.
@Suite struct CheckpointCommitTests {
    /// A directory with the checkpoint of a trainer after `steps` updates (and its vocabulary).
    func committed(after steps: Int, in directory: String) throws -> Trainer {
        let trainer = TrainerResumeTests.trainer()
        for _ in 0..<steps { _ = trainer.trainStep() }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("{\"pieces\": []}".utf8).write(to: URL(fileURLWithPath: directory + "/vocab.json"))
        try trainer.checkpoint(vocabulary: "vocab.json", name: "ck").save(directory: directory, name: "ck", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
        return trainer
    }

    func restored(_ directory: String) throws -> (step: Int, weights: [[Double]]) {
        let record = try Checkpoint.load(directory + "/ck.json")
        let fresh = TrainerResumeTests.trainer()
        try record.restore(directory: directory, into: fresh.model.parameters, optimizer: Adam(learningRate: 1))
        return (record.step, fresh.model.parameters.map(\.tensor.scalars))
    }

    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ck-\(UUID().uuidString)").path
    }

    @Test func aKillBeforeTheJSONIsRenamedLeavesThePreviousCheckpointWhole() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try committed(after: 2, in: directory)
        let firstWeights = first.model.parameters.map(\.tensor.scalars)
        // The next checkpoint's weights reached the disk, its JSON did not (killed between
        // the two writes), and a temporary file of the JSON was left behind.
        let later = TrainerResumeTests.trainer()
        for _ in 0..<3 { _ = later.trainStep() }
        let weights = CheckpointCommit.weightsFile(name: "ck", step: 3)
        try SafeTensors.write(later.model.parameters, to: directory + "/" + weights)
        try Data("{\"format\": \"revsearch-chec".utf8).write(to: URL(fileURLWithPath: directory + "/.ck.json.tmp-999"))
        let state = try restored(directory)
        #expect(state.step == 2 && state.weights == firstWeights)
        // The next start sweeps what no committed checkpoint names.
        CheckpointCommit.sweep(directory: directory, name: "ck", keeping: try Checkpoint.load(directory + "/ck.json").weights)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["ck-step000002.safetensors", "ck.json", "vocab.json"])
    }

    @Test func aCommitReplacesThePairAndRemovesTheOldWeights() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try committed(after: 1, in: directory)
        let second = try committed(after: 3, in: directory)
        let state = try restored(directory)
        #expect(state.step == 3 && state.weights == second.model.parameters.map(\.tensor.scalars))
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + CheckpointCommit.weightsFile(name: "ck", step: 1)))
    }

    /// Every byte of the JSON and of the vocabulary, and 211 bytes spread over the weights
    /// file, flipped in turn: each flip is refused, none restores silently.
    @Test func aFlippedByteInEitherFileIsRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try committed(after: 2, in: directory)
        let record = try Checkpoint.load(directory + "/ck.json")
        for file in [directory + "/" + record.weights, directory + "/ck.json", directory + "/vocab.json"] {
            let original = try Data(contentsOf: URL(fileURLWithPath: file))
            var accepted: [Int] = []
            for position in stride(from: 0, to: original.count, by: original.count <= 4096 ? 1 : original.count / 211) {
                var damaged = original
                damaged[position] ^= 0x04
                try damaged.write(to: URL(fileURLWithPath: file))
                if (try? restored(directory)) != nil { accepted.append(position) }
            }
            try original.write(to: URL(fileURLWithPath: file))
            #expect(accepted.isEmpty, "\(file): flips at \(accepted.prefix(5)) were accepted")
        }
        #expect(try restored(directory).step == 2)
    }

    @Test func trailingBytesAndForeignTensorsAreRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = try committed(after: 1, in: directory)
        var record = try Checkpoint.load(directory + "/ck.json")
        record.weightsSHA256 = nil
        let file = directory + "/" + record.weights
        let fresh = TrainerResumeTests.trainer()
        func restoreError() -> String {
            do { try record.restore(directory: directory, into: fresh.model.parameters, optimizer: Adam(learningRate: 1)); return "no error" } catch { return "\(error)" }
        }
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        data.append(contentsOf: [1, 2, 3])
        try data.write(to: URL(fileURLWithPath: file))
        #expect(restoreError().contains("3 bytes of trailing data"), "\(restoreError())")
        try SafeTensors.write(trainer.model.parameters + [("stray", Tensor(zeros: [2], dtype: .float32))], to: file)
        #expect(restoreError().contains("tensor 'stray' is not part of this checkpoint"), "\(restoreError())")
    }

    /// The checksum proves a file is the one written, not that its numbers are sane: a
    /// record with a negative position or an impossible option is refused at load, naming
    /// the field, instead of trapping in the batcher on resume.
    @Test func valuesOutOfRangeAreRefusedAtLoad() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = try committed(after: 1, in: directory)
        for (field, value) in [("epoch", -1), ("batch_index", -1), ("step", -5), ("max_tokens", 0)] {
            var record = trainer.checkpoint(vocabulary: "vocab.json", name: "ck")
            switch field {
            case "epoch": record.epoch = value
            case "batch_index": record.batchIndex = value
            case "step": record.step = value
            default: record.options.maxTokens = value
            }
            try record.save(directory: directory, name: "ck", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
            do { _ = try Checkpoint.load(directory + "/ck.json"); Issue.record("\(field) \(value) accepted") } catch {
                #expect("\(error)".contains("\(field): expected a whole number in"), "\(error)")
            }
        }
    }
}
