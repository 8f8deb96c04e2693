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

    public func tolerance(dtype: DType, depth: Int) -> Limits { limits(dtype, depth) }

    /// How far a Float32 full-storage gradient may be from the Float64 twin's (same weights,
    /// batch, dropout masks and branches), per tensor on the gradient scale — an a-priori
    /// bound of two terms, each held at the end of its fitted range so that it never grows
    /// without limit:
    /// - depth: the Float32 gradient limit 1e-5 + 3e-7 · L^3.5, fitted to this very rounding
    ///   on synthetic batches (Float32 full storage against Float64: 2.0e-6, 1.4e-5, 5.7e-5,
    ///   1.4e-3, 1.2e-2 at depths 2, 4, 8, 16, 32; 3.4-7.8x under), held at L = 32;
    /// - size: 2 u √n, u = 2⁻²⁴, n = tokens · d, the longest sum of the step (an alpha's
    ///   gradient adds a term per token and channel): rounding in a sum of n terms walks as
    ///   u √n. Held at n = 2²⁶. Measured on Multi30k (d = 240, 2048-token halves, n ≈ 1e6):
    ///   an alpha's Float32 gradient 1.4e-5 from Float64, where the depth term alone allows
    ///   1.3e-5.
    /// A mode may add its own limit on top (the triangle inequality through full storage).
    /// The kernels it rests on are proven by `revsearch gradcheck`'s Float32-against-Float64
    /// rows, not assumed.
    public func float32Allowance(depth: Int, sumLength: Int) -> Double {
        let depthTerm = tolerance(dtype: .float32, depth: min(max(depth, 1), 32)).gradient
        let sizeTerm = 2 * 0x1p-24 * Double(min(max(sumLength, 1), 1 << 26)).squareRoot()
        return depthTerm + sizeTerm
    }

    /// The largest distance from its branch point (relative to its tensor's RMS) at which a
    /// replayed ReLU or max-pooling decision may differ from the one a computation would
    /// take itself: ten times the layer-input limit, the relative error a recomputed input
    /// may carry into the values that decide.
    public func flipMarginLimit(dtype: DType, depth: Int) -> Double {
        10 * tolerance(dtype: dtype, depth: depth).activation
    }

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
