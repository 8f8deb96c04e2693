import Foundation
import InstrumentedRun
import Ops
import Reversible
import RunFiles
import Search
import TensorCore
import Translation
import Verifier

/// The scenarios a probe can name. Each reads its parameters (unknown ones are errors)
/// and returns named metrics for the probe's expectations; booleans are 1 or 0.
package enum ProbeScenarios {
    package typealias Run = @Sendable (inout JSONObjectReader) throws -> [String: Double]

    package static let all: [String: Run] = [
        "gradcheck": gradcheck,
        "verify": verify,
        "profile": profile,
        "search": search,
        "optimizer": optimizer,
        "search-step": searchStep,
        "memory-accounting": memoryAccounting,
        "memory-budget": memoryBudget,
        "dry-run": dryRun,
    ]

    /// The primitive gradient-check table, as `revsearch gradcheck` runs it.
    static func gradcheck(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let ops = try parameters.strings("ops") ?? ["all"]
        let seed = try parameters.int("seed", in: 0...Int.max) ?? 0
        var tolerance = GradCheckTolerance()
        if let eps = try parameters.number("eps", in: 1e-12...1, expected: "a step in [1e-12, 1]") { tolerance.eps = eps }
        if let atol = try parameters.number("atol", in: 0...1, expected: "a tolerance in [0, 1]") { tolerance.atol = atol }
        if let rtol = try parameters.number("rtol", in: 0...1, expected: "a tolerance in [0, 1]") { tolerance.rtol = rtol }
        var only: Set<String>?
        if ops != ["all"] {
            let known = Set(GradCheckReport.opNames)
            if let unknown = ops.first(where: { !known.contains($0) }) {
                throw parameters.error("ops", "unknown op '\(unknown)'; known: all, \(GradCheckReport.opNames.joined(separator: ", "))")
            }
            only = Set(ops)
        }
        let report = GradCheckReport.run(only: only, tolerance: tolerance, seed: UInt64(seed))
        return [
            "passed": report.passed ? 1 : 0,
            "cases": Double(report.ops.count),
            "failed_cases": Double(report.ops.filter { !$0.passed }.count),
            "ops_checked": Double(report.distinctOps),
            "max_abs_error": report.maxAbsError,
            "max_rel_error": report.maxRelError,
            "float32_failed_cases": Double(report.ops.filter { !$0.float32.passed }.count),
            "max_float32_bound_fraction": report.maxFloat32BoundFraction,
        ]
    }

    /// Reconstruction (or hybrid) against full storage, as `revsearch verify` runs it.
    static func verify(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        var model = try parameters.preset("preset", default: "search")
        if let dtype = try parameters.string("dtype") {
            guard let value = DType(name: dtype) else { throw parameters.error("dtype", "expected float32 or float64, found \"\(dtype)\"") }
            model.dtype = value
        }
        if let depth = try parameters.int("depth", in: 1...SizeLimits.depth) { model.encoderLayers = depth; model.decoderLayers = depth }
        if let dropout = try parameters.number("dropout", in: 0..<1, expected: "a rate in [0, 1)") { model.dropout = dropout }
        if let wrap = try parameters.string("wrap") {
            guard let value = OpWrap(rawValue: wrap) else { throw parameters.error("wrap", "expected post-norm or pre-norm, found \"\(wrap)\"") }
            model.wrap = value
        }
        if let mixture = try parameters.string("mixture") {
            guard let value = Mixture(rawValue: mixture) else { throw parameters.error("mixture", "expected plain or normalised, found \"\(mixture)\"") }
            model.mixture = value
        }
        let modeText = try parameters.string("modes") ?? "reconstruction,hybrid:2"
        let modes = modeText.split(separator: ",").compactMap { BackpropMode(String($0)) }
        guard modes.count == modeText.split(separator: ",").count, !modes.isEmpty, !modes.contains(.full) else {
            throw parameters.error("modes", "expected reconstruction or hybrid:K, comma-separated, found \"\(modeText)\"")
        }
        var setup = VerificationSetup(model: model, modes: modes)
        // A drift measurement at depth may leave out finite differences, causality and padding.
        setup.fullChecks = try parameters.bool("full_checks") ?? true
        if let seed = try parameters.int("seed", in: 0...Int.max) { setup.seed = UInt64(seed) }
        let family = try parameters.string("model") ?? "reversible"
        let secondOrder = try parameters.bool("second_order") ?? false
        var report: VerificationSummary
        switch family {
        case "reversible": report = try Verification.run(setup)
        case "baseline":
            let baseline = TransformerBaseline(matching: model)
            report = try Verification.run(model: baseline, name: "baseline", seed: setup.seed)
        default: throw parameters.error("model", "expected reversible or baseline, found \"\(family)\"")
        }
        if secondOrder { report.secondOrder = try SecondOrderCheck.run(model, seed: setup.seed) }
        let steps = report.steps
        return [
            "passed": report.passed ? 1 : 0,
            "max_activation_rel_error": report.maxActivationRelError ?? .nan,
            "max_grad_rel_error": report.maxGradRelError,
            "max_float32_error": report.maxFloat32Error ?? .nan,
            "fd_max_fraction": report.fdMaxFraction,
            "fd_tensors": Double(report.fdTensors),
            "parameter_tensors": Double(steps.first?.parameters.count ?? 0),
            "causality_max_leak": report.causality?.maxLeak ?? .nan,
            "padding_max_gradient_error": report.padding.map(\.maxGradientError).max() ?? .nan,
            "padding_max_logit_error": report.padding.map(\.maxLogitError).max() ?? .nan,
            "loss_difference": steps.map(\.lossDifference).max() ?? .nan,
            "second_order_alphas": Double(Set(report.secondOrder.map(\.tensor)).count),
            "steps_compared": Double(steps.count),
            "layers_compared": Double(steps.first?.layers.count ?? 0),
            "alphas_compared": Double(steps.first?.parameters.filter { $0.kind == "alpha" }.count ?? 0),
        ]
    }
}

extension ProbeScenarios {
    /// Peak activation memory of one training step across depths, full storage vs
    /// reconstruction, as `revsearch profile` measures it.
    static func profile(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        var model = try parameters.preset("preset", default: "search")
        let depths = try parameters.ints("depths") ?? [2, 8]
        guard let shallow = depths.min(), let deep = depths.max(), shallow >= 1, shallow < deep else {
            throw parameters.error("depths", "expected at least two different positive depths")
        }
        var profiling = StepProfiling()
        if let batch = try parameters.int("batch", in: 1...4096) { profiling.batch = batch }
        if let length = try parameters.int("length", in: 1...4096) { profiling.length = length }
        if let dropout = try parameters.number("dropout", in: 0..<1, expected: "a rate in [0, 1)") { model.dropout = dropout }
        func peak(_ mode: BackpropMode, _ depth: Int) throws -> Double {
            var config = model
            config.encoderLayers = depth
            config.decoderLayers = depth
            return Double(try profiling.profileStep(config, mode: mode, depth: depth).run.peakActivationBytes)
        }
        let (reconShallow, reconDeep) = (try peak(.reconstruction, shallow), try peak(.reconstruction, deep))
        let (fullShallow, fullDeep) = (try peak(.full, shallow), try peak(.full, deep))
        return [
            "reconstruction_peak_shallow_bytes": reconShallow, "reconstruction_peak_deep_bytes": reconDeep,
            "full_peak_shallow_bytes": fullShallow, "full_peak_deep_bytes": fullDeep,
            "reconstruction_growth": reconDeep / reconShallow,
            "full_growth": fullDeep / fullShallow,
            "saving_at_deepest": fullDeep / reconDeep,
        ]
    }
}

extension ProbeScenarios {
    /// A short instrumented search (profiler every step, verifier every few steps), as
    /// `revsearch search` runs it, into a temporary run directory. `data` is relative to
    /// the probe file.
    static func search(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let data = try parameters.path("data", default: "../Fixtures/toy")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-probe-search-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var s = SearchRun.Settings(data: data, source: try parameters.string("src") ?? "en", target: try parameters.string("tgt") ?? "de", out: out)
        s.model.modelWidth = try parameters.int("d", in: 1...SizeLimits.dimension) ?? 48
        s.model.embeddingWidth = try parameters.int("e", in: 1...SizeLimits.dimension) ?? 32
        s.model.encoderLayers = try parameters.int("layers", in: 1...SizeLimits.depth) ?? 2
        s.model.decoderLayers = s.model.encoderLayers
        s.model.heads = try parameters.int("heads", in: 1...SizeLimits.dimension) ?? 2
        s.maxSteps = try parameters.int("steps", in: 1...1_000_000) ?? 6
        s.verifyEvery = try parameters.int("verify_every", in: 0...1_000_000) ?? 3
        s.profile = try parameters.bool("profile") ?? true
        s.merges = try parameters.int("merges", in: 0...1_000_000) ?? 500
        s.search.maxTokens = try parameters.int("max_tokens", in: 1...(1 << 22)) ?? 512
        s.search.order = try parameters.int("order", in: 1...2) == 2 ? .second : .first
        s.search.mode = try parameters.backprop("mode") ?? .reconstruction
        let outcome = try SearchRun(s).run()
        let checks = outcome.verifications.map(\.report)
        return [
            "steps": Double(outcome.steps),
            "verifications": Double(checks.count),
            "verifications_passed": checks.allSatisfy(\.passed) ? 1 : 0,
            "max_activation_rel_error": checks.map(\.maxActivationRelError).max() ?? .nan,
            "max_grad_scaled_error": checks.map(\.maxGradScaledError).max() ?? .nan,
            "profiled_steps": Double(outcome.peakActivationBytes.count),
            "peak_activation_bytes": Double(outcome.peakActivationBytes.max() ?? 0),
            "alpha_movement": outcome.alphaMovement,
            "genotype_nodes": Double((outcome.genotype.encoder + outcome.genotype.decoder).joined().count),
            "report_written": FileManager.default.fileExists(atPath: outcome.report) ? 1 : 0,
        ]
    }
}
