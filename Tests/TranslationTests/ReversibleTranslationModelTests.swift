import Foundation
import Reversible
import TensorCore
import Testing
import Translation

/// A derived (genotype) reversible model as a `TranslationModel`: training in each backprop
/// mode, exact resume, the encode/decode path against the full forward, checkpoints that
/// record the family, and beam search from a restored checkpoint.
@Suite struct ReversibleTranslationModelTests {
    /// d = 12: encoder splits of 6, decoder splits of 4, 2 heads each; a block of two
    /// layers, as a genotype with s = 2 stacks it.
    static func setup(backprop: BackpropMode = .reconstruction, dropout: Double = 0.1) -> ReversibleSetup {
        let config = ModelConfig(sourceVocabulary: 300, targetVocabulary: 300, embeddingWidth: 8, modelWidth: 12, splits: 2,
                                 encoderLayers: 2, decoderLayers: 2, heads: 2, pooling: .max, dropout: dropout, dtype: .float32,
                                 encoderGenotype: [["self_attn", "ffn"], ["conv3", "glu"]],
                                 decoderGenotype: [["self_attn", "ffn"], ["dynconv3", "glu"]], seed: 3)
        return ReversibleSetup(config: config, backprop: backprop, genotype: "tiny.json")
    }

    static func model(_ setup: ReversibleSetup) -> ReversibleTranslationModel {
        try! ReversibleTranslationModel(setup)
    }

    static func trainer(_ setup: ReversibleSetup = setup()) -> Trainer {
        var options = TrainingOptions()
        options.maxTokens = 40
        options.warmupSteps = 4
        options.peakLearningRate = 3e-3
        return Trainer(model: model(setup), training: TrainerResumeTests.pairs(40, seed: 1),
                       validation: TrainerResumeTests.pairs(8, seed: 2), options: options)
    }

    static let batch = TokenBatcher.batch([
        TokenizedPair(source: [270, 280, 290, 271], target: [272, 273, 274]),
        TokenizedPair(source: [281, 282], target: [275, 276]),
        TokenizedPair(source: [283, 284, 285], target: [277]),
    ])

    /// The same batch again and again: in every backprop mode the loss stays finite and falls.
    @Test(arguments: ["full", "reconstruction", "hybrid:2"])
    func learnsARepeatedBatch(mode: String) {
        let model = Self.model(Self.setup(backprop: BackpropMode(mode)!, dropout: 0))
        let optimizer = Adam(learningRate: 1e-2, beta1: 0.9, beta2: 0.98)
        var losses: [Double] = []
        for _ in 0..<8 {
            for p in model.parameters { p.tensor.grad = nil }
            losses.append(model.trainingStep(Self.batch, dropoutKey: 1, labelSmoothing: 0.1))
            optimizer.update(model.parameters)
        }
        #expect(losses.allSatisfy { $0.isFinite }, "\(losses)")
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $1 < $0 }, "falls at every step: \(losses)")
        #expect(losses.last! < 0.9 * losses.first!, "\(losses)")
    }

    /// Stopped after a checkpoint and resumed in a fresh trainer, the reversible model
    /// repeats the uninterrupted run's losses exactly, across an epoch boundary; the
    /// checkpoint says it holds a reversible model, with its mode and genotype.
    @Test func resumedRunRepeatsTheUninterruptedLosses() throws {
        let run = try InterruptedRun(stopAfter: 6, total: 14, make: { Self.trainer() }) { record in
            Self.trainer(try #require(Self.reversibleSetup(record.model)))
        }
        #expect(run.checkpoint.model == .reversible(Self.setup()))
        let (uninterrupted, resumed) = (run.uninterrupted, run.resumed)
        #expect(run.losses == uninterrupted.losses)
        #expect(resumed.epoch >= 1, "the run crossed an epoch boundary")
        #expect(uninterrupted.losses.allSatisfy { $0.isFinite })
    }

    static func reversibleSetup(_ architecture: ModelArchitecture) -> ReversibleSetup? {
        if case .reversible(let setup) = architecture { return setup }
        return nil
    }

    /// Encoding once and decoding a prefix gives, at its last position, the logits the full
    /// teacher-forced forward (`decoderLogits`) gives there: for every row (ragged lengths,
    /// so both padding masks matter) and every prefix length; the whole sequence at once too.
    @Test func decodeMatchesTheFullForward() {
        let model = Self.model(Self.setup())
        let batch = Self.batch
        let full = model.model.decoderLogits(batch).scalars
        let (t, v) = (batch.targetLength, 300)
        let encoded = model.encode(batch)
        /// The largest |a - b| / (1 + |b|) over two runs of logits.
        func error(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
            zip(a, b).map { abs($0 - $1) / (1 + abs($1)) }.max()!
        }
        for length in 1...t {
            let rows = (0..<batch.batchSize).filter { batch.targetLengths[$0] >= length }
            let inputs = rows.map { Array(batch.targetInput[($0 * t)..<($0 * t + length)]) }
            let last = model.decode(encoded.select(rows: rows), targetInput: inputs, lastPositionOnly: true)
            #expect(last.shape == [rows.count, v])
            let values = last.scalars
            for (i, row) in rows.enumerated() {
                let worst = error(values[(i * v)..<((i + 1) * v)], full[((row * t) + length - 1) * v..<((row * t) + length) * v])
                #expect(worst <= 1e-5, "row \(row), prefix \(length)")
            }
        }
        let longest = (0..<batch.batchSize).filter { batch.targetLengths[$0] == t }
        let all = model.decode(encoded.select(rows: longest), targetInput: longest.map { Array(batch.targetInput[($0 * t)..<(($0 + 1) * t)]) },
                               lastPositionOnly: false)
        #expect(all.shape == [longest.count, t, v])
        for (i, row) in longest.enumerated() {
            #expect(error(all.scalars[(i * t * v)..<((i + 1) * t * v)], full[(row * t * v)..<((row + 1) * t * v)]) <= 1e-5, "row \(row)")
        }
    }

    /// A checkpoint rebuilt through its recorded architecture translates exactly as the
    /// model that wrote it, greedy and beam.
    @Test func translatesFromACheckpoint() throws {
        let trainer = Self.trainer()
        for _ in 0..<4 { trainer.trainStep() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("translate-rev-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try trainer.checkpoint(vocabulary: "vocab.json", name: "checkpoint")
            .save(directory: directory, name: "checkpoint", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
        let record = try Checkpoint.load(directory + "/checkpoint.json")
        let restored = try record.model.build()
        #expect(restored is ReversibleTranslationModel)
        try record.restore(directory: directory, into: restored.parameters, optimizer: Adam(learningRate: 0))
        let sources: [[Int32]] = [[270, 280, 290], [281], [283, 284, 285, 286, 287]]
        for beam in [1, 3] {
            var options = DecodingOptions()
            options.beam = beam
            options.maxLengthB = 4
            let original = BeamSearch.translate(trainer.model, sources: sources, options: options)
            let translated = BeamSearch.translate(restored, sources: sources, options: options)
            #expect(translated == original, "beam \(beam)")
            for (source, output) in zip(sources, translated) {
                #expect(output.count <= Int(1.5 * Double(source.count)) + 4)
                #expect(output.allSatisfy { (0..<300).contains($0) })
            }
        }
    }

    /// A checkpoint JSON of format 1 (before model families: no `family`) still reads, as
    /// the baseline; a family or backprop mode this version does not know is an error naming
    /// the file and the field.
    @Test func checkpointFamilies() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("family-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let baseline = TrainerResumeTests.trainer()
        baseline.trainStep()
        try baseline.checkpoint(vocabulary: "vocab.json", name: "ck")
            .save(directory: directory, name: "ck", parameters: baseline.model.parameters, optimizer: baseline.optimizer)
        let path = directory + "/ck.json"
        func edit(_ change: (inout [String: Any]) -> Void) throws {
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            change(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        }
        try edit { $0["family"] = nil; $0["format"] = "revsearch-checkpoint-1" }
        #expect(try Checkpoint.load(path).model == baseline.model.architecture)
        func loadError() -> String {
            do { _ = try Checkpoint.load(path); return "no error" } catch { return "\(error)" }
        }
        try edit { $0["family"] = "lstm" }
        #expect(loadError().contains(path) && loadError().contains("family") && loadError().contains("expected baseline or reversible, found 'lstm'"),
                "\(loadError())")
        try edit { $0["family"] = "reversible"; $0["backprop"] = "sometimes"; $0["genotype"] = "g.json" }
        #expect(loadError().contains("backprop") && loadError().contains("expected full, reconstruction or hybrid:K, found 'sometimes'"), "\(loadError())")
        try edit { $0["backprop"] = "full" }
        #expect(loadError().contains("source_vocabulary"), "a baseline config is no reversible one: \(loadError())")
    }
}
