import Foundation

/// One verification as text: what a search prints when it verifies, and what it stops with
/// when a verification fails.
extension VerificationReport {
    /// "step N: verified MODE against full storage: layer inputs ... (limit ...), gradients
    /// ... (limit ...); Float64 twin ...: passed".
    public func line(step: Int) -> String {
        "step \(step): verified \(mode) against full storage: layer inputs \(sci(maxActivationRelError)) "
            + "(limit \(sci(tolerance.activation))), gradients \(sci(maxGradScaledError)) "
            + "(limit \(sci(tolerance.gradient))\(float64Note)): \(passed ? "passed" : "FAILED")"
    }

    /// What the Float64 twin said: whether the algorithm is exact on the batch, and how far
    /// Float32 is from Float64 against its allowance.
    public var float64Note: String {
        let report = self
        guard let twin = report.float64Reference else { return "" }
        return "; Float64 twin: reconstruction vs full \(sci(twin.maxGradScaledError))\(twin.exact ? "" : " (NOT EXACT)"), "
            + "Float32 vs Float64 \(sci(max(twin.maxFloat32Error, twin.maxTestedError))) (allowance \(sci(twin.allowance)))"
    }

    /// The largest offending error of a failed verification, named (a run's stop message).
    public var worstFailure: String {
        let report = self
        if let layer = report.layers.filter({ !$0.passed }).max(by: { $0.error.relativeError < $1.error.relativeError }) {
            return "reconstructed input of \(layer.layer) split \(layer.split) off by \(sci(layer.error.relativeError)) relative "
                + "(limit \(sci(report.tolerance.activation)))"
        }
        if let parameter = report.parameters.filter({ !$0.passed }).max(by: { $0.scaledError < $1.scaledError }) {
            var against64 = ""
            if let f32 = parameter.float32Error, let tested = parameter.testedFloat64Error, let allowance = parameter.float32Allowance {
                against64 = "; against Float64: full storage \(sci(f32)), \(report.mode) \(sci(tested)) (allowance \(sci(allowance)))"
            }
            return "gradient of \(parameter.name) off by \(sci(parameter.scaledError)) from full storage "
                + "(limit \(sci(report.tolerance.gradient)))\(against64)\(report.float64Note)"
        }
        if let twin = report.float64Reference, !twin.exact {
            return "in the Float64 twin \(report.mode) differs from full storage by \(sci(twin.maxGradScaledError)) (gradients) and "
                + "\(sci(twin.maxActivationRelError)) (layer inputs): the algorithm is not exact on this batch"
        }
        if !report.branches.passed {
            return "\(report.branches.flips) ReLU/max-pooling branches replayed against the computation's own, the farthest "
                + "\(sci(report.branches.largestMargin)) from its branch point (limit \(sci(report.branches.limit))), "
                + "\(report.branches.unmatched) calls unmatched"
        }
        if let padding = report.padding, !padding.passed {
            return "padding invariance: sentences alone against together differ by \(sci(padding.maxLogitError)) (logits) and "
                + "\(sci(padding.maxGradientError)) (token-weighted gradients, \(padding.worstTensor)); limit \(sci(padding.limit))"
        }
        if let causality = report.causality, !causality.passed {
            return "decoder causality: changing a later target token moved an earlier position's logits by \(sci(causality.maxLeak)) "
                + "(\(causality.positionsChecked) positions checked)"
        }
        return "loss differs by \(sci(report.lossDifference)) between full storage and \(report.mode)"
    }
}
