import Foundation
import Ops
import Reversible
import TensorCore

/// What to verify: a model, a backprop mode to compare against full storage, a batch shape.
public struct VerificationSetup: Sendable {
    public var model: ModelConfig
    /// The mode under test (reconstruction or hybrid:k); the reference is always `full`.
    public var mode: BackpropMode
    public var batchSize = 3
    public var sourceLength = 7
    public var targetLength = 6
    /// Seed of the batch, the dropout masks and the finite-difference directions.
    public var seed: UInt64 = 1
    /// Deliberate faults (mutation tests); empty for a real check.
    public var faults: InjectedFaults = []
    public var registry: OpRegistry = .standard
    /// The Float64 finite-difference check (skipped by depth sweeps, which only measure drift).
    public var finiteDifferences = true
    /// For Float32 models: also measure how far Float32 full-storage gradients are from
    /// Float64 ones (the rounding every Float32 run has, reconstruction or not).
    public var measureFloat32Noise = false

    public init(model: ModelConfig, mode: BackpropMode) {
        self.model = model
        self.mode = mode
    }
}

/// Collects every layer's input splits, stored by the forward and rebuilt by the backward.
final class TraceCollector: ReversibleTrace {
    var stored: [String: [[Double]]] = [:]
    var reconstructed: [String: [[Double]]] = [:]

    func layerInput(stack: String, layer: Int, splits: [Tensor], reconstructed isReconstructed: Bool) {
        let key = "\(stack).layer\(layer)"
        let values = splits.map(\.scalars)
        if isReconstructed { reconstructed[key] = values } else { stored[key] = values }
    }
}

/// Runs the same model, weights, batch and dropout masks with full-storage backprop and
/// with the mode under test, and compares every layer input, every gradient and the loss;
/// then checks the mode's gradient against finite differences of the loss in Float64 and
/// checks that no decoder position sees a later one.
public enum Verification {
    public static func run(_ setup: VerificationSetup, policy: TolerancePolicy = .standard) throws -> VerificationReport {
        let model = try ReversibleTransformer(setup.model, registry: setup.registry, faults: setup.faults)
        let batch = SyntheticBatch.make(config: setup.model, batchSize: setup.batchSize, sourceLength: setup.sourceLength,
                                        targetLength: setup.targetLength, seed: setup.seed)
        let dropoutKey = RandomState.mix(setup.seed ^ 0xd209)
        let compared = try compare(model, batch: batch, mode: setup.mode, dropoutKey: dropoutKey, policy: policy)
        let finiteDifferences = setup.finiteDifferences ? try FiniteDifferenceCheck.run(setup, batch: batch, dropoutKey: dropoutKey) : []
        let causality = CausalityCheck.run(model, batch: batch)
        var float32Noise: Double?
        if setup.measureFloat32Noise && setup.model.dtype == .float32 {
            var twinConfig = setup.model
            twinConfig.dtype = .float64
            let twin = try ReversibleTransformer(twinConfig, registry: setup.registry, faults: setup.faults)
            twin.trainingStep(batch, mode: .full, dropoutKey: dropoutKey)
            let exact = twin.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }
            float32Noise = compareGradients(names: model.parameters.map(\.name), tested: compared.fullGradients, full: exact,
                                            tolerance: .infinity, floorFraction: policy.gradientFloor).map(\.scaledError).max()
        }
        return compared.report.with(finiteDifferences: finiteDifferences, causality: causality, float32Noise: float32Noise)
    }

    /// The same check on a Float64 twin of `model` (same weights, batch and dropout masks):
    /// whether reconstruction equals full storage exactly on this data (the algorithm), and
    /// per tensor how far Float32 full storage is from Float64 (the arithmetic).
    public static func float64Reference(of model: ReversibleTransformer, fullGradients: [[Double]], testedGradients: [[Double]],
                                        batch: Seq2SeqBatch, mode: BackpropMode,
                                        dropoutKey: UInt64, registry: OpRegistry = .standard, faults: InjectedFaults = [],
                                        policy: TolerancePolicy = .standard) throws -> VerificationReport.Float64Reference {
        var config = model.config
        config.dtype = .float64
        let twin = try ReversibleTransformer(config, registry: registry, faults: faults)
        for (target, source) in zip(twin.parameters, model.parameters) {
            let values = source.tensor.scalars
            let pointer = target.tensor.pointer(Double.self)
            for i in values.indices { pointer[i] = values[i] }
        }
        let (report, exact) = try compare(twin, batch: batch, mode: mode, dropoutKey: dropoutKey, policy: policy)
        let names = model.parameters.map(\.name)
        let noise = compareGradients(names: names, tested: fullGradients, full: exact, tolerance: .infinity,
                                     floorFraction: policy.gradientFloor).map(\.scaledError)
        let tested = compareGradients(names: names, tested: testedGradients, full: exact, tolerance: .infinity,
                                      floorFraction: policy.gradientFloor).map(\.scaledError)
        return .init(maxActivationRelError: report.maxActivationRelError, maxGradScaledError: report.maxGradScaledError,
                     exact: report.passed, float32Noise: noise, testedError: tested)
    }

    /// The same step of `model` on `batch` with full storage and with `mode`: every layer
    /// input, every gradient and the loss compared under `policy`. Leaves no gradients behind.
    /// What a search runs every N steps on its current weights (no finite differences there).
    ///
    /// With `float64Reference` (Float32 models) a Float64 twin runs the same check. A
    /// gradient over its depth-scaled limit then still passes if the twin's reconstruction
    /// equals its full storage to 1e-10 (the algorithm is exact on this batch) and the
    /// Float32 error — against Float32 full storage, or against Float64 itself — is no
    /// larger than `policy.float32Cap` or than the largest error of Float32 full storage
    /// against Float64 on the batch. The depth-scaled limits were fitted on a 3-sentence
    /// synthetic batch; a real batch of thousands of tokens sums many more terms into each
    /// weight gradient, and ReLU / max-pool kinks decide differently in any two
    /// computations (the Multi30k cases are under `TolerancePolicy.float32Cap`). Layer
    /// inputs keep their strict limits.
    /// The injected faults break the Float64 check itself, by 1e-1 and more.
    public static func compare(_ model: ReversibleTransformer, batch: Seq2SeqBatch, mode: BackpropMode, dropoutKey: UInt64,
                               policy: TolerancePolicy = .standard, float64Reference: Bool = false, registry: OpRegistry = .standard,
                               faults: InjectedFaults = []) throws -> (report: VerificationReport, fullGradients: [[Double]]) {
        let trace = TraceCollector()
        model.trace = trace
        defer { model.trace = nil; model.zeroGradients() }

        // Reference: ordinary backprop, every activation stored.
        model.zeroGradients()
        let fullLoss = model.trainingStep(batch, mode: .full, dropoutKey: dropoutKey)
        let fullGradients = model.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }
        // Under test: the same step with reconstruction (or hybrid).
        model.zeroGradients()
        let testedLoss = model.trainingStep(batch, mode: mode, dropoutKey: dropoutKey)
        let testedGradients = model.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }

        let config = model.config
        let depth = max(config.encoderLayers, config.decoderLayers)
        let tolerance = policy.tolerance(dtype: config.dtype, depth: depth)

        var layers: [VerificationReport.LayerRow] = []
        for key in trace.stored.keys.sorted(by: layerOrder) {
            let stored = trace.stored[key]!
            guard let rebuilt = trace.reconstructed[key] else { continue }
            for (k, (a, b)) in zip(rebuilt, stored).enumerated() {
                let error = TensorError(a, reference: b)
                layers.append(.init(layer: key, split: k + 1, error: error, passed: error.within(tolerance.activation)))
            }
        }
        model.zeroGradients()
        let reference = float64Reference && config.dtype == .float32
            ? try self.float64Reference(of: model, fullGradients: fullGradients, testedGradients: testedGradients, batch: batch,
                                        mode: mode, dropoutKey: dropoutKey,
                                        registry: registry, faults: faults, policy: policy) : nil
        let parameters = compareGradients(names: model.parameters.map(\.name), tested: testedGradients, full: fullGradients,
                                          tolerance: tolerance.gradient, floorFraction: policy.gradientFloor,
                                          reference: reference, float32Cap: policy.float32Cap)
        let lossDifference = abs(testedLoss - fullLoss)
        let lossPassed = lossDifference <= tolerance.gradient * max(abs(fullLoss), 1)
        let report = VerificationReport(
            dtype: config.dtype, depth: depth, mode: mode.description, tolerance: tolerance,
            lossFull: fullLoss, lossTested: testedLoss, lossDifference: lossDifference, lossPassed: lossPassed,
            layers: layers, parameters: parameters, finiteDifferences: [],
            causality: CausalityCheck.Result(maxLeak: 0, positionsChecked: 0, passed: true), float32Noise: nil,
            float64Reference: reference)
        return (report, fullGradients)
    }

    /// Per-tensor gradient errors. The tolerance applies to ||Δg|| / max(||g||, floor) with
    /// floor = floorFraction · ||g|| of the whole model: a tensor whose gradient is a
    /// millionth of the model's (attention queries and keys deep in a stack) has a relative
    /// error made of rounding alone, in full storage as much as in reconstruction.
    /// Public so that the rule for Float32 against an exact Float64 twin is testable on
    /// numbers chosen to sit either side of each limit.
    public static func compareGradients(names: [String], tested: [[Double]], full: [[Double]], tolerance: Double,
                                        floorFraction: Double, reference: VerificationReport.Float64Reference? = nil,
                                        float32Cap: Double = 0) -> [VerificationReport.ParameterRow] {
        let norms = full.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let globalNorm = norms.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let floor = floorFraction * globalNorm
        return names.indices.map { i in
            let error = TensorError(tested[i], reference: full[i])
            let difference = error.relativeError * (norms[i] > 0 ? norms[i] : 1)
            let scaled = norms[i] > 0 || floor > 0 ? difference / max(norms[i], floor) : difference
            var passed = scaled <= tolerance
            if let reference, reference.exact {
                // Either Float32 storage is the one off (a kink decided the other way in
                // it than in both reconstruction and Float64), or reconstruction is.
                let limit = max(tolerance, float32Cap, reference.float32Noise.max() ?? 0)
                passed = scaled <= limit || reference.testedError[i] <= limit
            }
            return .init(name: names[i], kind: kind(of: names[i]), gradientNorm: norms[i], error: error,
                         scaledError: scaled, float32Noise: reference?.float32Noise[i], passed: passed)
        }
    }

    static func kind(of name: String) -> String {
        if name.hasSuffix(".alpha") { return "alpha" }
        if name.hasSuffix("embedding.weight") { return "embedding" }
        return "weight"
    }

    /// "encoder.layer2" before "encoder.layer10"; encoder before decoder.
    static func layerOrder(_ a: String, _ b: String) -> Bool {
        func key(_ s: String) -> (Int, Int) {
            let parts = s.split(separator: ".")
            return (parts[0] == "encoder" ? 0 : 1, Int(parts[1].dropFirst(5)) ?? 0)
        }
        return key(a) < key(b)
    }
}
