import Foundation
import TensorCore

/// Relative-error tolerances for reconstruction against full storage, by dtype and depth.
public struct TolerancePolicy: Sendable {
    public struct Limits: Sendable, Codable {
        /// ||X_rebuilt - X_stored|| / ||X_stored|| per layer and split.
        public let activation: Double
        /// ||g_tested - g_full|| / ||g_full|| per parameter tensor.
        public let gradient: Double
    }

    public let limits: @Sendable (DType, Int) -> Limits

    public func tolerance(dtype: DType, depth: Int) -> Limits { limits(dtype, depth) }

    /// Float64: 1e-10 at any depth tested here (the errors measured are ~1e-14).
    /// Float32: see `float32Limits`, fitted to the measured depth sweep.
    public static let standard = TolerancePolicy { dtype, depth in
        switch dtype {
        case .float64: Limits(activation: 1e-10, gradient: 1e-10)
        case .float32: float32Limits(depth: depth)
        }
    }

    /// Float32 reconstruction error compounds layer over layer: each inverse subtracts a
    /// recomputed G_k carrying ~1e-7 relative rounding, and the next layer's inverse
    /// amplifies what it is given. The limit doubles every 4 layers from 2e-5 at depth 1
    /// (measured: see README "Float32 drift"), and gradients get 10x that, since they
    /// inherit every reconstructed input below them.
    public static func float32Limits(depth: Int) -> Limits {
        let activation = 2e-5 * pow(2, Double(max(depth, 1)) / 4)
        return Limits(activation: activation, gradient: 10 * activation)
    }
}
