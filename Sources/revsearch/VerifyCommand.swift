import ArgumentParser
import Foundation
import Ops
import Reversible
import TensorCore
import Verifier

/// `revsearch verify`: reconstruction (or hybrid) against full-storage backprop on the
/// same model, weights, batch and dropout masks, plus Float64 finite differences and a
/// decoder causality check. Exit status 1 when any tolerance is exceeded.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check reconstructed activations and gradients against full storage and finite differences."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "float32 or float64.") var dtype: String?
    @Option(help: "Layers in the encoder and in the decoder each.") var depth: Int?
    @Option(help: "Mode under test: reconstruction or hybrid:K.") var mode = "reconstruction"
    @Option(help: "Dropout rate (overrides the config).") var dropout: Double?
    @Option(help: "Seed of the batch, dropout masks and directions.") var seed: UInt64 = 1
    @Option(help: "Sentences in the synthetic batch.") var batch = 3
    @Option(help: "Inject a deliberate fault (to see the verifier catch it): \(InjectedFaults.named.map(\.0).joined(separator: ", ")).")
    var fault: [String] = []
    @Option(name: .customLong("json"), help: "Write the report as JSON to this path.") var jsonPath: String?
    @Option(help: "Float32 depth sweep, e.g. 2,4,8,16,32: prints reconstruction vs hybrid error growth (a measurement: exits 0).")
    var depthSweep: String?
    @Option(help: "Hybrid interval of the depth sweep.") var hybridEvery = 4
    @Flag(help: "List every parameter tensor's gradient error.") var verbose = false

    func run() throws {
        var model = try modelOptions.resolve()
        if let dtype {
            guard let value = DType(name: dtype) else { throw ValidationError("--dtype: expected float32 or float64, got '\(dtype)'") }
            model.dtype = value
        }
        if let depth { model.encoderLayers = depth; model.decoderLayers = depth }
        if let dropout { model.dropout = dropout }
        guard let testedMode = BackpropMode(mode), testedMode != .full else {
            throw ValidationError("--mode: expected reconstruction or hybrid:K (K >= 1), got '\(mode)'")
        }
        var faults: InjectedFaults = []
        for name in fault {
            guard let match = InjectedFaults.named.first(where: { $0.0 == name }) else {
                throw ValidationError("--fault: unknown fault '\(name)'; known: \(InjectedFaults.named.map(\.0).joined(separator: ", "))")
            }
            faults.insert(match.1)
        }
        if let depthSweep { return try sweep(depthSweep, model: model, faults: faults) }

        var setup = VerificationSetup(model: model, mode: testedMode)
        setup.seed = seed
        setup.batchSize = batch
        setup.faults = faults
        let report = try Verification.run(setup)
        print(VerifyReportText.render(report, verbose: verbose))
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
        if !report.passed { throw ExitCode(1) }
    }

    func sweep(_ list: String, model base: ModelConfig, faults: InjectedFaults) throws {
        let depths = try parsePositiveInts(list, option: "--depth-sweep")
        var table = Table("depth", "recon act err", "recon grad err", "hybrid:\(hybridEvery) act err", "hybrid:\(hybridEvery) grad err",
                          "f32 full vs f64 grad err", "act tol", "grad tol", "recon pass", "hybrid pass")
        print("Float32 error vs depth (d = \(base.modelWidth), seed \(seed)): max over layers of the relative layer-input error; max over")
        print("tensors of the gradient error ||Δg|| / max(||g||, 1e-3 ||g_model||); last error column: Float32 full storage vs Float64.")
        for depth in depths {
            var model = base
            model.dtype = .float32
            model.encoderLayers = depth
            model.decoderLayers = depth
            var rows: [VerificationReport] = []
            for mode in [BackpropMode.reconstruction, .hybrid(every: hybridEvery)] {
                var setup = VerificationSetup(model: model, mode: mode)
                setup.seed = seed
                setup.batchSize = batch
                setup.faults = faults
                setup.finiteDifferences = false
                setup.measureFloat32Noise = mode == .reconstruction
                rows.append(try Verification.run(setup))
            }
            table.add(String(depth), sci(rows[0].maxActivationRelError), sci(rows[0].maxGradScaledError),
                      sci(rows[1].maxActivationRelError), sci(rows[1].maxGradScaledError), sci(rows[0].float32Noise ?? .nan),
                      sci(rows[0].tolerance.activation), sci(rows[0].tolerance.gradient),
                      rows[0].passed ? "yes" : "NO", rows[1].passed ? "yes" : "NO")
            print("  depth \(depth) done")
        }
        print(table.rendered)
    }
}

/// The terminal form of a verification report.
enum VerifyReportText {
    static func render(_ r: VerificationReport, verbose: Bool) -> String {
        var out: [String] = []
        out.append("verify: \(r.mode) vs full, \(r.dtype), depth \(r.depth); tolerances: layer inputs \(sci(r.tolerance.activation)) (relative Frobenius), gradients \(sci(r.tolerance.gradient)) (||Δg|| / max(||g||, 1e-3 ||g_model||))")
        var layers = Table("layer", "split", "max abs error", "rel error", "pass")
        for row in r.layers {
            layers.add(row.layer, String(row.split), sci(row.error.maxAbsError), sci(row.error.relativeError), row.passed ? "yes" : "NO")
        }
        out.append("\nReconstructed layer inputs vs stored:\n" + layers.rendered)
        // Gradients grouped by layer (and alphas, embeddings apart).
        var groups: [String: [VerificationReport.ParameterRow]] = [:]
        var order: [String] = []
        for p in r.parameters {
            let parts = p.name.split(separator: ".")
            let group = p.kind == "weight" ? parts.prefix(2).joined(separator: ".") : "\(parts[0]) \(p.kind)s"
            if groups[group] == nil { order.append(group) }
            groups[group, default: []].append(p)
        }
        var grads = Table("parameters", "tensors", "max rel error", "max scaled error", "max abs error", "pass")
        for g in order {
            let rows = groups[g]!
            grads.add(g, String(rows.count), sci(rows.map(\.error.relativeError).max()!), sci(rows.map(\.scaledError).max()!),
                      sci(rows.map(\.error.maxAbsError).max()!),
                      rows.allSatisfy(\.passed) ? "yes" : "NO")
        }
        out.append("\nGradients, \(r.mode) vs full:\n" + grads.rendered)
        if verbose {
            var all = Table("parameter", "grad norm", "rel error", "pass")
            for p in r.parameters { all.add(p.name, sci(p.gradientNorm), sci(p.error.relativeError), p.passed ? "yes" : "NO") }
            out.append("\n" + all.rendered)
        }
        if !r.finiteDifferences.isEmpty {
            var fd = Table("direction over", "analytic", "numeric", "abs error", "rel error", "pass")
            for d in r.finiteDifferences {
                fd.add(d.over, sci(d.analytic), sci(d.numeric), sci(d.absError), sci(d.relError), d.passed ? "yes" : "NO")
            }
            out.append("\nFloat64 finite differences of the loss (eps 1e-6, atol 1e-5, rtol 1e-3), \(r.mode) gradient:\n" + fd.rendered)
        }
        out.append("\nloss: full \(r.lossFull), \(r.mode) \(r.lossTested), difference \(sci(r.lossDifference)) \(r.lossPassed ? "ok" : "TOO LARGE")")
        out.append("causality: \(r.causality.positionsChecked) earlier positions checked, max leak \(sci(r.causality.maxLeak)) \(r.causality.passed ? "ok" : "LEAK")")
        out.append("max activation rel error \(sci(r.maxActivationRelError)), max grad rel error \(sci(r.maxGradRelError)) (scaled \(sci(r.maxGradScaledError))), fd max rel error \(sci(r.fdMaxRelError))")
        out.append(r.passed ? "PASSED" : "FAILED")
        return out.joined(separator: "\n")
    }
}
