import Foundation
import TensorCore

/// Tolerances for reconstruction against full storage, by dtype and depth.
public struct TolerancePolicy: Sendable {
    public struct Limits: Sendable, Codable {
        /// ||X_rebuilt - X_stored|| / ||X_stored|| per layer and split.
        public let activation: Double
        /// Per parameter tensor, ||g_tested - g_full|| / max(||g_full||, floor).
        public let gradient: Double
    }

    public let limits: @Sendable (DType, Int) -> Limits
    /// The floor of a tensor's gradient norm, as a fraction of the whole model's.
    public let gradientFloor: Double
    /// With a Float64 reference that proves the algorithm exact on the batch: a Float32
    /// gradient error accepted whatever Float32 storage's own error on that batch (see
    /// `Verification.compare`). On Multi30k batches (d = 240, 2048 tokens) Float32 full
    /// storage itself was off from Float64 by up to 6.4e-3 (search step 500), 5.1e-3 and
    /// 4.6e-3, and reconstruction once by 1.7e-3 on one tensor with storage at 1.9e-5 and
    /// every layer input within 2.8e-7, the Float64 twin exact to 1e-14 each time; a kink (ReLU, max pooling) decided differently in one computation moves
    /// one tensor's gradient by that much, in storage or in reconstruction alike. 1e-2
    /// stays far below what changes an Adam step, and far below Float32 reconstruction's
    /// real failure, compounding error in deep stacks (1.5e-1 at depth 32).
    public var float32Cap = 1e-2

    public func tolerance(dtype: DType, depth: Int) -> Limits { limits(dtype, depth) }

    /// Float64: 1e-10 at every depth (measured ~1e-14 at depth 6).
    ///
    /// Float32, fitted to `revsearch verify --depth-sweep 2,4,8,16,32` (d = 240, every op
    /// mixed, seeds 1 and 2; README "Float32 drift"). Reconstruction error compounds layer
    /// over layer: each inverse subtracts a recomputed G_k carrying float32 rounding and
    /// every layer below inherits it. Layer inputs: measured 3e-7 at depth 2 to 1e-3 at 32,
    /// close to depth³; limit 2e-7 · depth³ (5-16x margin). Gradients: limit
    /// 1e-5 + 3e-7 · depth^3.5, which follows the rounding of Float32 full storage itself
    /// (Float32 full vs Float64 full: 2e-6 at depth 2 to 1-3e-2 at 32). Up to depth 16,
    /// reconstruction adds less than that rounding (7-14x under the limit); at depth 32 it
    /// adds 2-7x more and is rejected, while hybrid:4 stays within it.
    public static let standard = TolerancePolicy(
        limits: { dtype, depth in
            switch dtype {
            case .float64:
                return Limits(activation: 1e-10, gradient: 1e-10)
            case .float32:
                let l = Double(max(depth, 1))
                return Limits(activation: 2e-7 * pow(l, 3), gradient: 1e-5 + 3e-7 * pow(l, 3.5))
            }
        },
        gradientFloor: 1e-3)
}
