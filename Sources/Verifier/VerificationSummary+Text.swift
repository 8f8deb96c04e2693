import Foundation

extension VerificationSummary {
    /// The terminal form of the summary (what `revsearch verify` prints): one row per batch
    /// and mode, then, for failed steps (every step when `verbose`), one row per tensor.
    public func text(verbose: Bool) -> String {
        let r = self
        var out: [String] = []
        let limits = r.steps.first?.tolerance
        if r.model == "reversible" {
            out.append("verify: \(r.modes.joined(separator: ", ")) vs full storage, \(r.dtype), depth \(r.depth); limits: layer inputs "
                       + "\(sci(limits?.activation ?? .nan)) (relative Frobenius), gradients \(sci(limits?.gradient ?? .nan)) "
                       + "(||Δg|| / max(||g||, 1e-3 ||g_model||)); ReLU and max-pooling branches of full storage replayed")
        } else {
            out.append("verify: the \(r.model) model, \(r.dtype), depth \(r.depth); Float32 gradients against a Float64 copy within the "
                       + "Float32 allowance (||Δg|| / max(||g||, 1e-3 ||g_model||)), ReLU branches replayed")
        }
        var steps = TextTable("batch", "mode", "tokens", "layer inputs", "gradients", "f32 full vs f64", "mode vs f64", "allowances",
                          "f64 twin", "flips", "flip margin", "loss diff", "pass")
        for s in r.steps {
            let twin = s.float64Reference
            steps.add(s.batch, s.mode, String(s.tokens), s.layers.isEmpty ? "-" : sci(s.maxActivationRelError), sci(s.maxGradScaledError),
                      twin.map { sci($0.maxFloat32Error) } ?? "-", twin.map { sci($0.maxTestedError) } ?? "-",
                      twin.map { "\(sci($0.allowance)) / \(sci($0.modeAllowance))" }
                          ?? (s.mode == VerificationReport.float32AgainstFloat64 ? sci(s.tolerance.gradient) : "-"),
                      twin.map { $0.exact ? "exact" : "NOT EXACT" } ?? "-", String(s.branches.flips), sci(s.branches.largestMargin),
                      sci(s.lossDifference), s.passed ? "yes" : "NO")
        }
        out.append("\nEach mode against full storage (and, Float32, against a Float64 twin on the same weights and branches):\n"
                   + steps.rendered)
        for s in r.steps where !s.passed || verbose {
            var rows = TextTable("parameter", "grad norm", "vs full", "limit", "f32 full vs f64", "mode vs f64", "allowances", "pass")
            for p in s.parameters where !p.passed || verbose {
                rows.add(p.name, sci(p.gradientNorm), sci(p.scaledError), sci(p.limit), p.float32Error.map(sci) ?? "-",
                         p.testedFloat64Error.map(sci) ?? "-",
                         p.float32Allowance.map { "\(sci($0)) / \(sci(p.modeAllowance ?? .nan))" } ?? "-", p.passed ? "yes" : "NO")
            }
            for layer in s.layers where !layer.passed {
                rows.add("\(layer.layer) split \(layer.split) input", "-", sci(layer.error.relativeError), sci(s.tolerance.activation),
                         "-", "-", "-", "NO")
            }
            out.append("\n\(s.batch) batch, \(s.mode):\n" + rows.rendered)
        }
        if !r.finiteDifferences.isEmpty {
            let failed = r.finiteDifferences.filter { !$0.passed }
            let unresolved = failed.filter { $0.along == "unresolved" }.count
            let measured = r.finiteDifferences.filter { $0.along != "unresolved" }.map(\.fraction).max() ?? .nan
            out.append("\nFloat64 finite differences per parameter tensor (along its gradient and 2 random unit directions; "
                       + "allowed \(FiniteDifferenceCheck.relativeTolerance) · scale + truncation + rounding): \(r.fdTensors) tensors, "
                       + "\(r.finiteDifferences.count) directions, largest error / allowed \(sci(measured)), \(failed.count) failed"
                       + (unresolved > 0 ? " (\(unresolved) of them unresolved: a gradient too small to resolve against rounding at any step size, so not verified)" : ""))
            var fd = TextTable("tensor", "along", "analytic", "numeric", "step", "truncation", "rounding", "allowed", "error", "pass")
            let shown = verbose ? r.finiteDifferences : failed + r.finiteDifferences.filter(\.passed)
                .sorted { $0.fraction > $1.fraction }.prefix(3)
            for d in shown {
                fd.add(d.tensor, d.along, sci(d.analytic), sci(d.numeric), sci(d.step), sci(d.truncation), sci(d.rounding), sci(d.allowed),
                       sci(d.error), d.passed ? "yes" : "NO")
            }
            out.append(fd.rendered)
        }
        if let c = r.causality {
            out.append("\ncausality: \(c.positionsChecked) earlier positions checked, max leak \(sci(c.maxLeak)) \(c.passed ? "ok" : "LEAK")")
        }
        for (mode, p) in zip(r.modes, r.padding) {
            out.append("padding invariance (\(mode), \(p.sentences) sentences alone vs together, Float64): logits \(sci(p.maxLogitError)), "
                       + "token-weighted gradients \(sci(p.maxGradientError)) (\(p.worstTensor)), limit \(sci(p.limit)) "
                       + (p.passed ? "ok" : "FAILED"))
        }
        if !r.secondOrder.isEmpty {
            let worst = r.secondOrder.map(\.fraction).max() ?? .nan
            out.append("second-order alpha gradient vs central differences of the unrolled objective (Float64, kink-free ops): "
                       + "\(Set(r.secondOrder.map(\.tensor)).count) alphas, \(r.secondOrder.count) directions, largest error / allowed "
                       + "\(sci(worst)) " + (r.secondOrder.allSatisfy(\.passed) ? "ok" : "FAILED"))
        }
        out.append(r.passed ? "PASSED" : "FAILED")
        return out.joined(separator: "\n")
    }
}
