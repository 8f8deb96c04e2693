import Reversible
import TensorCore

/// A model the verifier checks without knowing its architecture: the baseline Transformer,
/// or a user's own. It has no reconstruction to compare, so what is checked is the rest:
/// Float32 against a Float64 copy, finite differences, causality, padding invariance.
public protocol VerifiableModel: AnyObject {
    var parameters: [(name: String, tensor: Tensor)] { get }
    var dtype: DType { get }
    var targetVocabulary: Int { get }
    /// Layers of the deeper stack and the hidden width: what the limits scale with.
    var depth: Int { get }
    var width: Int { get }
    /// Forward and backward of `batch` with dropout keyed by `dropoutKey`; gradients
    /// accumulate into the parameters' `grad`. Returns the loss.
    func step(_ batch: Seq2SeqBatch, dropoutKey: UInt64) -> Double
    /// The same loss without dropout and without gradients.
    func loss(_ batch: Seq2SeqBatch) -> Double
    /// Decoder logits [B, T, V], teacher-forced, without dropout.
    func logits(_ batch: Seq2SeqBatch) -> Tensor
    /// The same architecture in `dtype` with `dropout`, holding this model's weights.
    func copy(dtype: DType, dropout: Double?) throws -> Self
}

extension Verification {
    /// `revsearch verify --model baseline`: on every batch layout, every Float32 gradient
    /// against a Float64 copy with the branches replayed (within the Float32 allowance);
    /// then per-tensor finite differences, causality and padding invariance, in Float64
    /// without dropout where the check needs it.
    public static func run(model: some VerifiableModel, name: String, batchSize: Int = 3, sourceLength: Int = 7,
                           targetLength: Int = 6, seed: UInt64 = 1, layouts: [BatchLayout] = BatchLayout.allCases,
                           policy: TolerancePolicy = .standard) throws -> VerificationSummary {
        let dropoutKey = RandomState.mix(seed ^ 0xd209)
        let names = model.parameters.map(\.name)
        var steps: [VerificationReport] = []
        var ragged: Seq2SeqBatch?
        let vocabulary = SyntheticBatch.Vocabulary(source: model.targetVocabulary, target: model.targetVocabulary)
        for (i, layout) in layouts.enumerated() {
            let batch = SyntheticBatch.make(vocabulary: vocabulary, batchSize: batchSize, sourceLength: sourceLength,
                                            targetLength: targetLength, seed: seed &+ UInt64(i), layout: layout)
            if layout == .ragged { ragged = batch }
            guard model.dtype == .float32 else { continue }
            steps.append(try float32Step(model, batch: batch, batchName: layout.rawValue, dropoutKey: dropoutKey, policy: policy))
        }
        let batch = ragged ?? SyntheticBatch.make(vocabulary: vocabulary, batchSize: batchSize, sourceLength: sourceLength,
                                                  targetLength: targetLength, seed: seed, layout: .ragged)
        let causality = CausalityCheck.run(batch: batch, vocabulary: model.targetVocabulary) { model.logits($0).scalars }
        let still = try model.copy(dtype: .float64, dropout: 0)
        func gradients(_ batch: Seq2SeqBatch) -> [[Double]] {
            for p in still.parameters { p.tensor.grad = nil }
            defer { for p in still.parameters { p.tensor.grad = nil } }
            _ = still.step(batch, dropoutKey: dropoutKey)
            return still.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }
        }
        let padding = PaddingInvariance.run(names: names, batch: batch, vocabulary: model.targetVocabulary,
                                            limit: policy.tolerance(dtype: .float64, depth: model.depth).gradient,
                                            floorFraction: policy.gradientFloor,
                                            logits: { still.logits($0).scalars }, gradients: gradients)
        for p in still.parameters { p.tensor.grad = nil }
        _ = still.step(batch, dropoutKey: dropoutKey)
        let finiteDifferences = FiniteDifferenceCheck.run(parameters: still.parameters,
                                                          gradients: FiniteDifferenceCheck.gradients(of: still.parameters), seed: seed) {
            still.loss(batch)
        }
        return VerificationSummary(name: name, dtype: model.dtype, depth: model.depth, modes: ["full"], steps: steps,
                                   finiteDifferences: finiteDifferences, causality: causality, padding: [padding])
    }

    /// One step of a Float32 model against its Float64 copy, branches replayed: per tensor,
    /// the Float32 gradient's error against Float64 within the Float32 allowance.
    static func float32Step(_ model: some VerifiableModel, batch: Seq2SeqBatch, batchName: String, dropoutKey: UInt64,
                            policy: TolerancePolicy) throws -> VerificationReport {
        let runtime = Runtime.current
        let log = BranchLog()
        defer { runtime.branches = nil }
        func step(_ m: some VerifiableModel) -> (Double, [[Double]]) {
            for p in m.parameters { p.tensor.grad = nil }
            defer { for p in m.parameters { p.tensor.grad = nil } }
            let loss = m.step(batch, dropoutKey: dropoutKey)
            return (loss, m.parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) })
        }
        let twin = try model.copy(dtype: .float64, dropout: nil)
        runtime.branches = log
        let (loss32, single) = step(model)
        log.replay()
        let (loss64, double) = step(twin)
        runtime.branches = nil
        let tokens = batch.targetLengths.reduce(0, +) + batch.sourceLengths.reduce(0, +)
        let allowance = policy.float32Allowance(depth: model.depth, sumLength: tokens * model.width)
        let rows = compareGradients(names: model.parameters.map(\.name), tested: single, full: double, tolerance: allowance,
                                    floorFraction: policy.gradientFloor)
        let lossDifference = abs(loss32 - loss64)
        let limits = TolerancePolicy.Limits(activation: 0, gradient: allowance)
        return VerificationReport(batch: batchName, tokens: batch.targetTokens, dtype: model.dtype, depth: model.depth,
                                  mode: VerificationReport.float32AgainstFloat64, tolerance: limits, lossFull: loss64, lossTested: loss32,
                                  lossDifference: lossDifference, lossPassed: lossDifference <= allowance * max(abs(loss64), 1),
                                  layers: [], parameters: rows, float64Reference: nil,
                                  branches: .init(flips: log.flips, largestMargin: log.largestFlipMargin,
                                                  limit: policy.flipMarginLimit(dtype: .float32, depth: model.depth),
                                                  unmatched: log.unmatched),
                                  causality: nil, padding: nil)
    }
}
