import Foundation
import TensorCore

/// Everything `revsearch verify` checked; its JSON form is the `--json` output.
public struct VerificationSummary: Sendable, Encodable {
    /// "reversible" (the super-network or a derived model) or another model's name.
    public let model: String
    public let dtype: DType
    public let depth: Int
    public let modes: [String]
    /// One per batch layout and mode.
    public let steps: [VerificationReport]
    /// Per parameter tensor, in Float64 (empty when not run).
    public let finiteDifferences: [FiniteDifferenceCheck.Direction]
    /// nil when not run (depth sweeps).
    public let causality: CausalityCheck.Result?
    /// One per mode (empty when not run).
    public let padding: [PaddingInvariance.Result]
    /// DARTS' second-order alpha gradient against finite differences of the unrolled
    /// objective, per alpha tensor (empty when not asked for).
    public var secondOrder: [FiniteDifferenceCheck.Direction] = []

    init(setup: VerificationSetup, steps: [VerificationReport], finiteDifferences: [FiniteDifferenceCheck.Direction],
         causality: CausalityCheck.Result?, padding: [PaddingInvariance.Result]) {
        self.init(name: "reversible", dtype: setup.model.dtype, depth: max(setup.model.encoderLayers, setup.model.decoderLayers),
                  modes: setup.modes.map(\.description), steps: steps, finiteDifferences: finiteDifferences, causality: causality,
                  padding: padding)
    }

    init(name: String, dtype: DType, depth: Int, modes: [String], steps: [VerificationReport],
         finiteDifferences: [FiniteDifferenceCheck.Direction], causality: CausalityCheck.Result?, padding: [PaddingInvariance.Result]) {
        model = name
        self.dtype = dtype
        self.depth = depth
        self.modes = modes
        self.steps = steps
        self.finiteDifferences = finiteDifferences
        self.causality = causality
        self.padding = padding
    }

    /// Passed when every check run passed and something was checked (a Float64 model
    /// without reconstruction has no steps, only the once-only checks).
    public var passed: Bool {
        (!steps.isEmpty || !finiteDifferences.isEmpty) && steps.allSatisfy(\.passed) && finiteDifferences.allSatisfy(\.passed)
            && (causality?.passed ?? true) && padding.allSatisfy(\.passed) && secondOrder.allSatisfy(\.passed)
    }

    /// nil when no step rebuilt a layer input (a model without reconstruction).
    public var maxActivationRelError: Double? {
        let measured = steps.filter { !$0.layers.isEmpty }
        return measured.isEmpty ? nil : measured.map(\.maxActivationRelError).maxOrNaN
    }
    public var maxGradRelError: Double { steps.map(\.maxGradRelError).maxOrNaN }
    public var maxGradScaledError: Double { steps.map(\.maxGradScaledError).maxOrNaN }
    /// The largest finite-difference discrepancy as a fraction of what it was allowed.
    public var fdMaxFraction: Double { finiteDifferences.map(\.fraction).maxOrNaN }
    /// Parameter tensors with at least one resolved finite-difference direction.
    public var fdTensors: Int { Set(finiteDifferences.filter { $0.along != "unresolved" }.map(\.tensor)).count }
    /// Largest Float32 gradient error against the Float64 twin or copy (full storage or a
    /// mode); nil for a Float64 model, which has none.
    public var maxFloat32Error: Double? {
        let errors = steps.compactMap(\.float64Reference).map { Swift.max($0.maxFloat32Error, $0.maxTestedError) }
            + steps.filter { $0.mode == VerificationReport.float32AgainstFloat64 }.map(\.maxGradScaledError)
        return errors.isEmpty ? nil : errors.maxOrNaN
    }

    enum CodingKeys: String, CodingKey {
        case passed, model, dtype, depth, modes, steps, causality, padding
        case secondOrder = "second_order"
        case finiteDifferences = "finite_differences", maxActivationRelError = "max_activation_rel_error"
        case maxGradRelError = "max_grad_rel_error", maxGradScaledError = "max_grad_scaled_error"
        case fdMaxFraction = "fd_max_fraction", fdTensors = "fd_tensors", maxFloat32Error = "max_float32_error"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passed, forKey: .passed)
        try c.encode(model, forKey: .model)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(depth, forKey: .depth)
        try c.encode(modes, forKey: .modes)
        try c.encodeIfPresent(maxActivationRelError, forKey: .maxActivationRelError)
        try c.encode(maxGradRelError, forKey: .maxGradRelError)
        try c.encode(maxGradScaledError, forKey: .maxGradScaledError)
        try c.encodeIfPresent(maxFloat32Error, forKey: .maxFloat32Error)
        try c.encode(fdMaxFraction, forKey: .fdMaxFraction)
        try c.encode(fdTensors, forKey: .fdTensors)
        try c.encode(steps, forKey: .steps)
        try c.encode(finiteDifferences, forKey: .finiteDifferences)
        try c.encodeIfPresent(causality, forKey: .causality)
        try c.encode(padding, forKey: .padding)
        try c.encode(secondOrder, forKey: .secondOrder)
    }
}
