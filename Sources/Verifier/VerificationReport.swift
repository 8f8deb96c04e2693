import Foundation
import TensorCore

/// Everything `revsearch verify` reports; its JSON form is the `--json` output.
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
        /// ||g_tested - g_full|| / max(||g_full||, floor): what the tolerance applies to.
        public let scaledError: Double
        /// When measured: the same error of Float32 full storage against Float64.
        public let float32Noise: Double?
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case name, kind, error, passed
            case gradientNorm = "gradient_norm", scaledError = "scaled_error", float32Noise = "float32_noise"
        }
    }

    /// A Float32 check's Float64 twin on the same weights, batch and dropout masks.
    public struct Float64Reference: Sendable, Encodable {
        /// The twin's reconstruction against its full storage.
        public let maxActivationRelError: Double
        public let maxGradScaledError: Double
        /// Within the Float64 limits (1e-10): the algorithm is exact on this batch.
        public let exact: Bool
        /// Per parameter tensor: Float32 full storage against Float64 full storage.
        public let float32Noise: [Double]
        /// Per parameter tensor: the Float32 mode under test against Float64 full storage.
        public let testedError: [Double]

        public init(maxActivationRelError: Double, maxGradScaledError: Double, exact: Bool, float32Noise: [Double],
                    testedError: [Double]) {
            self.maxActivationRelError = maxActivationRelError; self.maxGradScaledError = maxGradScaledError
            self.exact = exact; self.float32Noise = float32Noise; self.testedError = testedError
        }

        enum CodingKeys: String, CodingKey {
            case exact
            case maxActivationRelError = "max_activation_rel_error", maxGradScaledError = "max_grad_scaled_error"
        }
    }

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
    public let finiteDifferences: [FiniteDifferenceCheck.Direction]
    public let causality: CausalityCheck.Result
    /// Float32 runs that asked for it: the largest scaled gradient error of Float32 full
    /// storage against Float64 full storage (the rounding floor any Float32 run has).
    public let float32Noise: Double?
    /// Checks during a search: the same check on a Float64 twin.
    public let float64Reference: Float64Reference?

    public var maxActivationRelError: Double { layers.map(\.error.relativeError).maxOrNaN }
    public var maxGradRelError: Double { parameters.map(\.error.relativeError).maxOrNaN }
    /// The largest gradient error as the tolerance sees it (floored norms).
    public var maxGradScaledError: Double { parameters.map(\.scaledError).maxOrNaN }
    /// The largest per-tensor error of Float32 full storage against Float64, when measured (else 0).
    public var maxFloat32Noise: Double { parameters.compactMap(\.float32Noise).max() ?? 0 }
    public var fdMaxRelError: Double { finiteDifferences.map(\.relError).maxOrNaN }

    public var passed: Bool {
        lossPassed && layers.allSatisfy(\.passed) && parameters.allSatisfy(\.passed)
            && finiteDifferences.allSatisfy(\.passed) && causality.passed && !layers.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case passed, dtype, depth, mode, tolerance, layers, parameters, causality
        case maxActivationRelError = "max_activation_rel_error", maxGradRelError = "max_grad_rel_error"
        case fdMaxRelError = "fd_max_rel_error", finiteDifferences = "finite_differences"
        case maxGradScaledError = "max_grad_scaled_error", float32Noise = "float32_noise_grad_error", float64Reference = "float64_reference"
        case lossFull = "loss_full", lossTested = "loss_tested", lossDifference = "loss_difference", lossPassed = "loss_passed"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passed, forKey: .passed)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(depth, forKey: .depth)
        try c.encode(mode, forKey: .mode)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(maxActivationRelError, forKey: .maxActivationRelError)
        try c.encode(maxGradRelError, forKey: .maxGradRelError)
        try c.encode(maxGradScaledError, forKey: .maxGradScaledError)
        try c.encode(fdMaxRelError, forKey: .fdMaxRelError)
        try c.encodeIfPresent(float32Noise, forKey: .float32Noise)
        try c.encode(lossFull, forKey: .lossFull)
        try c.encode(lossTested, forKey: .lossTested)
        try c.encode(lossDifference, forKey: .lossDifference)
        try c.encode(lossPassed, forKey: .lossPassed)
        try c.encode(layers, forKey: .layers)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(finiteDifferences, forKey: .finiteDifferences)
        try c.encode(causality, forKey: .causality)
        try c.encodeIfPresent(float64Reference, forKey: .float64Reference)
    }

    public init(dtype: DType, depth: Int, mode: String, tolerance: TolerancePolicy.Limits, lossFull: Double, lossTested: Double,
                lossDifference: Double, lossPassed: Bool, layers: [LayerRow], parameters: [ParameterRow],
                finiteDifferences: [FiniteDifferenceCheck.Direction], causality: CausalityCheck.Result, float32Noise: Double?,
                float64Reference: Float64Reference? = nil) {
        self.dtype = dtype; self.depth = depth; self.mode = mode; self.tolerance = tolerance
        self.lossFull = lossFull; self.lossTested = lossTested; self.lossDifference = lossDifference; self.lossPassed = lossPassed
        self.layers = layers; self.parameters = parameters; self.finiteDifferences = finiteDifferences; self.causality = causality
        self.float32Noise = float32Noise
        self.float64Reference = float64Reference
    }
}

extension VerificationReport {
    /// This report with the checks that need more than the two backprop runs filled in.
    func with(finiteDifferences: [FiniteDifferenceCheck.Direction], causality: CausalityCheck.Result, float32Noise: Double?) -> VerificationReport {
        VerificationReport(dtype: dtype, depth: depth, mode: mode, tolerance: tolerance, lossFull: lossFull, lossTested: lossTested,
                           lossDifference: lossDifference, lossPassed: lossPassed, layers: layers, parameters: parameters,
                           finiteDifferences: finiteDifferences, causality: causality, float32Noise: float32Noise,
                           float64Reference: float64Reference)
    }
}

extension Array where Element == Double {
    /// The maximum, NaN if any element is NaN (a NaN error must never look small), 0 if empty.
    var maxOrNaN: Double {
        if contains(where: \.isNaN) { return .nan }
        return self.max() ?? 0
    }
}
