import Foundation
import TensorCore

/// One step compared: a backprop mode against full storage on one batch (what a search
/// logs every N steps; `revsearch verify` runs one per batch layout and mode).
public struct VerificationReport: Sendable, Encodable {
    public struct LayerRow: Sendable, Codable {
        public let layer: String
        public let split: Int
        public let error: TensorError
        public let passed: Bool
    }

    public struct ParameterRow: Sendable, Codable {
        public let name: String
        /// weight, alpha or embedding
        public let kind: String
        public let gradientNorm: Double
        public let error: TensorError
        /// ||g_tested - g_full|| / max(||g_full||, floor): what the limit applies to.
        public let scaledError: Double
        public let limit: Double
        /// With a Float64 twin: Float32 full storage against Float64 (within
        /// `float32Allowance`), and the mode under test against Float64 (within
        /// `modeAllowance`: the allowance plus the mode's own limit), on the same scale.
        public var float32Error: Double?
        public var testedFloat64Error: Double?
        public var float32Allowance: Double?
        public var modeAllowance: Double?
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case name, kind, error, limit, passed
            case gradientNorm = "gradient_norm", scaledError = "scaled_error", float32Error = "float32_error"
            case testedFloat64Error = "tested_float64_error", float32Allowance = "float32_allowance", modeAllowance = "mode_allowance"
        }

        public init(name: String, kind: String, gradientNorm: Double, error: TensorError, scaledError: Double, limit: Double,
                    passed: Bool) {
            self.name = name; self.kind = kind; self.gradientNorm = gradientNorm; self.error = error
            self.scaledError = scaledError; self.limit = limit; self.passed = passed
        }

        /// This row with the Float64 twin's errors, passing only if they are within their allowances too.
        func withFloat64(float32Error: Double, testedError: Double, allowance: Double, modeAllowance: Double) -> ParameterRow {
            var row = ParameterRow(name: name, kind: kind, gradientNorm: gradientNorm, error: error, scaledError: scaledError,
                                   limit: limit, passed: passed && float32Error <= allowance && testedError <= modeAllowance)
            row.float32Error = float32Error
            row.testedFloat64Error = testedError
            row.float32Allowance = allowance
            row.modeAllowance = modeAllowance
            return row
        }
    }

    /// A Float32 check's Float64 twin on the same weights, batch, dropout masks and branches.
    public struct Float64Reference: Sendable, Codable {
        /// The twin's mode against its full storage.
        public let maxActivationRelError: Double
        public let maxGradScaledError: Double
        /// Within the Float64 limits: the algorithm is exact on this batch.
        public let exact: Bool
        /// The largest Float32 full-storage gradient error against Float64 allowed
        /// (`TolerancePolicy.float32Allowance`), and the mode's (plus its own limit).
        public let allowance: Double
        public let modeAllowance: Double
        /// Largest per-tensor error of Float32 full storage, and of the mode, against Float64.
        public let maxFloat32Error: Double
        public let maxTestedError: Double

        enum CodingKeys: String, CodingKey {
            case exact, allowance
            case modeAllowance = "mode_allowance"
            case maxActivationRelError = "max_activation_rel_error", maxGradScaledError = "max_grad_scaled_error"
            case maxFloat32Error = "max_float32_error", maxTestedError = "max_tested_error"
        }
    }

    /// ReLU and max-pooling branches of the full step, replayed in the other computations.
    public struct Branches: Sendable, Encodable {
        /// Replayed decisions a computation would have taken the other way.
        public let flips: Int
        /// The largest such flip's distance from the branch point, relative to its tensor's RMS.
        public let largestMargin: Double
        /// What rounding can explain (`TolerancePolicy.flipMarginLimit`).
        public let limit: Double
        /// Calls with no recorded decision of their shape: the computations took different paths.
        public let unmatched: Int
        public var passed: Bool { largestMargin <= limit && unmatched == 0 }

        enum CodingKeys: String, CodingKey {
            case flips, limit, unmatched, passed
            case largestMargin = "largest_margin"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(flips, forKey: .flips)
            try c.encode(largestMargin, forKey: .largestMargin)
            try c.encode(limit, forKey: .limit)
            try c.encode(unmatched, forKey: .unmatched)
            try c.encode(passed, forKey: .passed)
        }
    }

    public let batch: String
    /// Target tokens of the batch.
    public let tokens: Int
    public let dtype: DType
    public let depth: Int
    public let mode: String
    public let tolerance: TolerancePolicy.Limits
    public let lossFull: Double
    public let lossTested: Double
    public let lossDifference: Double
    public let lossPassed: Bool
    public let layers: [LayerRow]
    public let parameters: [ParameterRow]
    public let float64Reference: Float64Reference?
    public let branches: Branches
    /// nil: not run on this step (and not counted as passed or failed).
    public let causality: CausalityCheck.Result?
    public let padding: PaddingInvariance.Result?

    public var maxActivationRelError: Double { layers.map(\.error.relativeError).maxOrNaN }
    public var maxGradRelError: Double { parameters.map(\.error.relativeError).maxOrNaN }
    /// The largest gradient error as the limit sees it (floored norms).
    public var maxGradScaledError: Double { parameters.map(\.scaledError).maxOrNaN }

    /// The mode of a model without reconstruction, checked against its Float64 copy alone.
    public static let float32AgainstFloat64 = "float32 vs float64"

    public var passed: Bool {
        lossPassed && (!layers.isEmpty || mode == Self.float32AgainstFloat64) && layers.allSatisfy(\.passed) && parameters.allSatisfy(\.passed)
            && (float64Reference?.exact ?? true) && branches.passed && (causality?.passed ?? true) && (padding?.passed ?? true)
    }

    enum CodingKeys: String, CodingKey {
        case passed, batch, tokens, dtype, depth, mode, tolerance, layers, parameters, causality, branches, padding
        case maxActivationRelError = "max_activation_rel_error", maxGradRelError = "max_grad_rel_error"
        case maxGradScaledError = "max_grad_scaled_error", float64Reference = "float64_reference"
        case lossFull = "loss_full", lossTested = "loss_tested", lossDifference = "loss_difference", lossPassed = "loss_passed"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passed, forKey: .passed)
        try c.encode(batch, forKey: .batch)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(depth, forKey: .depth)
        try c.encode(mode, forKey: .mode)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(maxActivationRelError, forKey: .maxActivationRelError)
        try c.encode(maxGradRelError, forKey: .maxGradRelError)
        try c.encode(maxGradScaledError, forKey: .maxGradScaledError)
        try c.encode(lossFull, forKey: .lossFull)
        try c.encode(lossTested, forKey: .lossTested)
        try c.encode(lossDifference, forKey: .lossDifference)
        try c.encode(lossPassed, forKey: .lossPassed)
        try c.encode(layers, forKey: .layers)
        try c.encode(parameters, forKey: .parameters)
        try c.encodeIfPresent(float64Reference, forKey: .float64Reference)
        try c.encode(branches, forKey: .branches)
        try c.encodeIfPresent(causality, forKey: .causality)
        try c.encodeIfPresent(padding, forKey: .padding)
    }
}

extension Array where Element == Double {
    /// The maximum, NaN if any element is NaN (a NaN error must never look small), 0 if empty.
    var maxOrNaN: Double {
        if contains(where: \.isNaN) { return .nan }
        return self.max() ?? 0
    }
}
