import Foundation
import Ops
import Reversible
import TensorCore

/// What to verify: a model, the backprop modes to compare against full storage, a batch shape.
public struct VerificationSetup: Sendable {
    public var model: ModelConfig
    /// The modes under test (reconstruction, hybrid:k); the reference is always `full`.
    public var modes: [BackpropMode]
    public var batchSize = 3
    public var sourceLength = 7
    public var targetLength = 6
    /// Seed of the batches, the dropout masks and the finite-difference directions.
    public var seed: UInt64 = 1
    /// Deliberate faults (mutation tests); empty for a real check.
    package var faults: InjectedFaults = []
    public var registry: OpRegistry = .standard
    /// The batch layouts every mode is compared on.
    public var layouts: [BatchLayout] = BatchLayout.allCases
    /// Finite differences, causality and padding invariance (a depth sweep, which only
    /// measures drift, leaves them out).
    public var fullChecks = true

    public init(model: ModelConfig, modes: [BackpropMode]) {
        self.model = model
        self.modes = modes
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

/// `revsearch verify`: every mode against full storage on every batch layout (layer inputs,
/// gradients, loss; for Float32 also against a Float64 twin on the same weights), then
/// Float64 finite differences per parameter tensor, decoder causality and padding
/// invariance.
public enum Verification {
    public static func run(_ setup: VerificationSetup, policy: TolerancePolicy = .standard) throws -> VerificationSummary {
        let model = try ReversibleTransformer(setup.model, registry: setup.registry, faults: setup.faults)
        let dropoutKey = RandomState.mix(setup.seed ^ 0xd209)
        var steps: [VerificationReport] = []
        var batches: [BatchLayout: Seq2SeqBatch] = [:]
        for layout in setup.layouts {
            let batch = SyntheticBatch.make(config: setup.model, batchSize: setup.batchSize, sourceLength: setup.sourceLength,
                                            targetLength: setup.targetLength, seed: setup.seed &+ UInt64(batches.count), layout: layout)
            batches[layout] = batch
            for mode in setup.modes {
                steps.append(try compare(model, batch: batch, batchName: layout.rawValue, mode: mode, dropoutKey: dropoutKey,
                                         policy: policy, float64Reference: setup.model.dtype == .float32))
            }
        }
        guard setup.fullChecks, let ragged = batches[.ragged] ?? batches.values.first else {
            return VerificationSummary(setup: setup, steps: steps, finiteDifferences: [], causality: nil, padding: [])
        }
        let causality = CausalityCheck.run(model, batch: ragged)
        let twin = try model.copy(dtype: .float64)
        twin.zeroGradients()
        twin.trainingStep(ragged, mode: setup.modes.first ?? .reconstruction, dropoutKey: dropoutKey)
        let finiteDifferences = FiniteDifferenceCheck.run(twin, batch: ragged, dropoutKey: dropoutKey, seed: setup.seed)
        twin.zeroGradients()
        let still = try model.copy(dtype: .float64, dropout: 0)
        let depth = max(setup.model.encoderLayers, setup.model.decoderLayers)
        let padding = setup.modes.map { mode in
            PaddingInvariance.run(still, batch: ragged, mode: mode, limit: policy.tolerance(dtype: .float64, depth: depth).gradient,
                                  floorFraction: policy.gradientFloor)
        }
        return VerificationSummary(setup: setup, steps: steps, finiteDifferences: finiteDifferences, causality: causality,
                                   padding: padding)
    }

    /// One step of a model run twice: full storage, recording the ReLU and max-pooling
    /// branches it takes, then `mode` replaying them.
    struct StepPair {
        let fullLoss: Double
        let testedLoss: Double
        let fullGradients: [[Double]]
        let testedGradients: [[Double]]
        let trace: TraceCollector
    }

    /// Runs `model` with full storage and with `mode`. With `recording`, the full step
    /// records the branches into `log`; otherwise both steps replay them.
    static func stepPair(_ model: ReversibleTransformer, batch: Seq2SeqBatch, mode: BackpropMode, dropoutKey: UInt64,
                         log: BranchLog, recording: Bool) -> StepPair {
        let trace = TraceCollector()
        let runtime = Runtime.current
        model.trace = trace
        runtime.branches = log
        defer { model.trace = nil; runtime.branches = nil; model.zeroGradients() }
        func gradients() -> [[Double]] { model.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) } }
        if recording { log.mode = .record } else { log.replay() }
        model.zeroGradients()
        let fullLoss = model.trainingStep(batch, mode: .full, dropoutKey: dropoutKey)
        let fullGradients = gradients()
        log.replay()
        model.zeroGradients()
        let testedLoss = model.trainingStep(batch, mode: mode, dropoutKey: dropoutKey)
        return StepPair(fullLoss: fullLoss, testedLoss: testedLoss, fullGradients: fullGradients, testedGradients: gradients(),
                        trace: trace)
    }

    /// The same step of `model` on `batch` with full storage and with `mode`: every layer
    /// input, every gradient and the loss compared under `policy`, with the ReLU and
    /// max-pooling branches of the full step replayed in every other computation (see
    /// `BranchLog`), so what differs is rounding alone. What a search runs every N steps.
    ///
    /// With `float64Reference` (Float32 models), a Float64 twin on the same weights, batch,
    /// dropout masks and branches runs the same pair: its mode must equal its full storage
    /// to the Float64 limits (the algorithm is exact on this batch), and every Float32
    /// gradient — full storage and the mode — must be within `policy.float32Allowance` of
    /// the twin's (the Float32 arithmetic is as good as its rounding allows), the mode with
    /// its own gradient limit on top. With `invariances`, decoder causality and padding
    /// invariance (Float64, no dropout, the mode under test) are checked on the four
    /// sentences of the batch with the longest targets; without, the report says they were
    /// not run.
    public static func compare(_ model: ReversibleTransformer, batch: Seq2SeqBatch, batchName: String = "batch", mode: BackpropMode,
                               dropoutKey: UInt64, policy: TolerancePolicy = .standard, float64Reference: Bool = false,
                               invariances: Bool = false) throws -> VerificationReport {
        try compareWithGradients(model, batch: batch, batchName: batchName, mode: mode, dropoutKey: dropoutKey, policy: policy,
                                 float64Reference: float64Reference, invariances: invariances).report
    }

    /// `compare`, also returning full storage's gradients. A Float64 twin is the model's
    /// `copy`: built from its registry, with any faults it was built with.
    static func compareWithGradients(_ model: ReversibleTransformer, batch: Seq2SeqBatch, batchName: String = "batch", mode: BackpropMode,
                                     dropoutKey: UInt64, policy: TolerancePolicy = .standard, float64Reference: Bool = false,
                                     invariances: Bool = false) throws -> (report: VerificationReport, fullGradients: [[Double]]) {
        let config = model.config
        let depth = max(config.encoderLayers, config.decoderLayers)
        let tolerance = policy.tolerance(dtype: config.dtype, depth: depth)
        let log = BranchLog()
        let pair = stepPair(model, batch: batch, mode: mode, dropoutKey: dropoutKey, log: log, recording: true)
        let layers = layerRows(pair.trace, limit: tolerance.activation)
        let names = model.parameters.map(\.name)

        var reference: VerificationReport.Float64Reference?
        var float32Errors: [Double]?, testedErrors: [Double]?
        let tokens = batch.targetLengths.reduce(0, +) + batch.sourceLengths.reduce(0, +)
        let allowance = policy.float32Allowance(depth: depth, sumLength: tokens * config.modelWidth)
        let modeAllowance = allowance + tolerance.gradient
        if float64Reference && config.dtype == .float32 {
            let twin = try model.copy(dtype: .float64)
            let exact = stepPair(twin, batch: batch, mode: mode, dropoutKey: dropoutKey, log: log, recording: false)
            let limits = policy.tolerance(dtype: .float64, depth: depth)
            let twinLayers = layerRows(exact.trace, limit: limits.activation)
            let twinGradients = compareGradients(names: names, tested: exact.testedGradients, full: exact.fullGradients,
                                                 tolerance: limits.gradient, floorFraction: policy.gradientFloor)
            let scaled = { (tested: [[Double]]) in
                compareGradients(names: names, tested: tested, full: exact.fullGradients, tolerance: allowance,
                                 floorFraction: policy.gradientFloor).map(\.scaledError)
            }
            float32Errors = scaled(pair.fullGradients)
            testedErrors = scaled(pair.testedGradients)
            reference = .init(maxActivationRelError: twinLayers.map(\.error.relativeError).maxOrNaN,
                              maxGradScaledError: twinGradients.map(\.scaledError).maxOrNaN,
                              exact: twinLayers.allSatisfy(\.passed) && twinGradients.allSatisfy(\.passed) && !twinLayers.isEmpty,
                              allowance: allowance, modeAllowance: modeAllowance, maxFloat32Error: float32Errors?.maxOrNaN ?? .nan,
                              maxTestedError: testedErrors?.maxOrNaN ?? .nan)
        }
        var parameters = compareGradients(names: names, tested: pair.testedGradients, full: pair.fullGradients,
                                          tolerance: tolerance.gradient, floorFraction: policy.gradientFloor)
        if let float32Errors, let testedErrors {
            parameters = parameters.indices.map { i in
                parameters[i].withFloat64(float32Error: float32Errors[i], testedError: testedErrors[i], allowance: allowance,
                                          modeAllowance: modeAllowance)
            }
        }
        let branches = VerificationReport.Branches(flips: log.flips, largestMargin: log.largestFlipMargin,
                                                   limit: policy.flipMarginLimit(dtype: config.dtype, depth: depth), unmatched: log.unmatched)
        var causalityResult: CausalityCheck.Result?, padding: PaddingInvariance.Result?
        if invariances {
            let sentences = longestTargets(4, of: batch)
            causalityResult = CausalityCheck.run(model, batch: sentences)
            padding = PaddingInvariance.run(try model.copy(dtype: .float64, dropout: 0), batch: sentences,
                                            mode: mode, limit: policy.tolerance(dtype: .float64, depth: depth).gradient,
                                            floorFraction: policy.gradientFloor)
        }
        let lossDifference = abs(pair.testedLoss - pair.fullLoss)
        let report = VerificationReport(
            batch: batchName, tokens: batch.targetTokens, dtype: config.dtype, depth: depth, mode: mode.description, tolerance: tolerance,
            lossFull: pair.fullLoss, lossTested: pair.testedLoss, lossDifference: lossDifference,
            lossPassed: lossDifference <= tolerance.gradient * max(abs(pair.fullLoss), 1),
            layers: layers, parameters: parameters, float64Reference: reference, branches: branches, causality: causalityResult,
            padding: padding)
        return (report, pair.fullGradients)
    }

    /// Reconstructed layer inputs against the stored ones.
    static func layerRows(_ trace: TraceCollector, limit: Double) -> [VerificationReport.LayerRow] {
        var layers: [VerificationReport.LayerRow] = []
        for (key, stored) in trace.stored.sorted(by: { layerOrder($0.key, $1.key) }) {
            guard let rebuilt = trace.reconstructed[key] else { continue }
            for (k, (a, b)) in zip(rebuilt, stored).enumerated() {
                let error = TensorError(a, reference: b)
                layers.append(.init(layer: key, split: k + 1, error: error, passed: error.within(limit)))
            }
        }
        return layers
    }

    /// Up to `count` sentences of `batch` with the longest targets (causality needs positions).
    static func longestTargets(_ count: Int, of batch: Seq2SeqBatch) -> Seq2SeqBatch {
        let rows = (0..<batch.batchSize).sorted { batch.targetLengths[$0] > batch.targetLengths[$1] }.prefix(count)
            .map { SyntheticBatch.sentence($0, of: batch) }
        return Seq2SeqBatch(source: rows.map(\.source), targetInput: rows.map(\.targetInput), targetOutput: rows.map(\.targetOutput),
                            padID: batch.padID)
    }

    /// Per-tensor gradient errors. The tolerance applies to ||Δg|| / max(||g||, floor) with
    /// floor = floorFraction · ||g|| of the whole model: a tensor whose gradient is a
    /// millionth of the model's (attention queries and keys deep in a stack) has a relative
    /// error made of rounding alone, in full storage as much as in reconstruction.
    public static func compareGradients(names: [String], tested: [[Double]], full: [[Double]], tolerance: Double,
                                        floorFraction: Double) -> [VerificationReport.ParameterRow] {
        let norms = full.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let globalNorm = norms.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let floor = floorFraction * globalNorm
        return names.indices.map { i in
            let error = TensorError(tested[i], reference: full[i])
            let difference = error.relativeError * (norms[i] > 0 ? norms[i] : 1)
            let scaled = norms[i] > 0 || floor > 0 ? difference / max(norms[i], floor) : difference
            return .init(name: names[i], kind: kind(of: names[i]), gradientNorm: norms[i], error: error,
                         scaledError: scaled, limit: tolerance, passed: scaled <= tolerance)
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
