import Foundation
import TensorCore
import Testing
import Translation

@Suite struct TrainerResumeTests {
    static func pairs(_ n: Int, seed: UInt64) -> [TokenizedPair] {
        var rng = RandomState(seed: seed)
        return (0..<n).map { _ in
            let s = (0..<(2 + Int(rng.next() % 6))).map { _ in Int32(259 + rng.next() % 40) }
            return TokenizedPair(source: s, target: s.reversed().map { $0 + 1 })
        }
    }

    static func trainer() -> Trainer {
        var options = TrainingOptions()
        options.maxTokens = 40
        options.warmupSteps = 4
        options.peakLearningRate = 3e-3
        let model = TransformerBaseline(.init(vocabulary: 300, modelWidth: 16, encoderLayers: 1, decoderLayers: 1, heads: 2, dropout: 0.1, seed: 2))
        return Trainer(model: model, training: pairs(40, seed: 1), validation: pairs(8, seed: 2), options: options)
    }

    /// Training stopped after a checkpoint and resumed in a fresh trainer (as after the
    /// process was killed) computes exactly the losses of an uninterrupted run, across an
    /// epoch boundary.
    @Test func resumedRunRepeatsTheUninterruptedLosses() throws {
        let run = try InterruptedRun(stopAfter: 6, total: 14, make: { Self.trainer() }, rebuild: { _ in Self.trainer() })
        let (uninterrupted, resumed) = (run.uninterrupted, run.resumed)
        #expect(run.losses == uninterrupted.losses)
        #expect(resumed.epoch >= 1, "the run crossed an epoch boundary")
        #expect(uninterrupted.losses.last! < uninterrupted.losses.first!, "it learns")
    }

    @Test func badCheckpointsNameFileAndTensor() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = Self.trainer()
        trainer.trainStep()
        let checkpoint = trainer.checkpoint(vocabulary: "vocab.json", name: "ck")
        try checkpoint.save(directory: directory, name: "ck", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
        func restoreError(_ model: TransformerBaseline.Config) -> String {
            let other = TransformerBaseline(model)
            do { try checkpoint.restore(directory: directory, into: other.parameters, optimizer: Adam(learningRate: 1)); return "no error" }
            catch { return "\(error)" }
        }
        let config = (trainer.model as! TransformerBaseline).config
        var wider = config
        wider.modelWidth = 32
        #expect(restoreError(wider).contains("tensor 'embedding.weight' has shape [300, 16], the config gives [300, 32]"), "\(restoreError(wider))")
        var double = config
        double.dtype = .float64
        #expect(restoreError(double).contains("is float32, the model's is float64"))
        // A truncated weights file, and a JSON that is not a checkpoint.
        let weights = directory + "/" + checkpoint.weights
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: weights))
        #expect(restoreError(config).contains(checkpoint.weights) && restoreError(config).contains("truncated"))
        try "[1, 2]".write(toFile: directory + "/ck.json", atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.load(directory + "/ck.json") }
    }
}
