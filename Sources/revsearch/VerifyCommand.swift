import ArgumentParser
import Foundation
import InstrumentedRun
import Ops
import Probing
import Reversible
import TensorCore
import Translation
import Verifier

/// `revsearch verify`: every mode asked for against full storage on a ragged batch, a batch
/// of one and an unpadded batch (Float32 also against a Float64 twin), plus per-tensor
/// Float64 finite differences, decoder causality and padding invariance. Exit status 1
/// when any check fails.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check reconstructed activations and gradients against full storage, Float64 and finite differences.",
        discussion: "Exit status: 0 every check passed, 1 a check failed, 2 bad input, 64 usage error."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "reversible (the super-network of the preset or config) or baseline (the pre-LN Transformer of `train`, with the preset's width, heads, depth, vocabulary, dropout and dtype).")
    var model = "reversible"
    @Option(help: "float32 or float64.") var dtype: String?
    @Option(help: "Layers in the encoder and in the decoder each.") var depth: Int?
    @Option(name: [.customLong("modes"), .customLong("mode")], help: "Modes under test, comma-separated: reconstruction, hybrid:K.")
    var modes = "reconstruction,hybrid:2"
    @Option(help: "Dropout rate (overrides the config).") var dropout: Double?
    @Option(help: "Seed of the batches, dropout masks and directions.") var seed: UInt64 = 1
    @Option(help: "Sentences in the synthetic batches.") var batch = 3
    @Option(help: "Inject a deliberate fault (to see the verifier catch it): \(InjectedFaults.named.map(\.0).joined(separator: ", ")).")
    var fault: [String] = []
    @Option(name: .customLong("json"), help: "Write the report as JSON to this path (-: standard output).") var jsonPath: String?
    @Option(help: "Float32 depth sweep, e.g. 2,4,8,16,32: prints reconstruction vs hybrid error growth (a measurement: exits 0).")
    var depthSweep: String?
    @Option(help: "Hybrid interval of the depth sweep.") var hybridEvery = 4
    @Flag(help: "Also check DARTS' second-order alpha gradient against finite differences of the unrolled objective (Float64).")
    var secondOrder = false
    @Flag(help: "List every parameter tensor's gradient error and finite-difference direction.") var verbose = false

    func validate() throws {
        try OptionRanges.layers("depth", depth)
        try OptionRanges.dropout(dropout)
        try OptionRanges.whole("batch", batch, 1...4096)
        try OptionRanges.layers("hybrid-every", hybridEvery)
    }

    func run() throws {
        var model = try modelOptions.resolve()
        if let dtype {
            guard let value = DType(name: dtype) else { throw ValidationError("--dtype: expected float32 or float64, got '\(dtype)'") }
            model.dtype = value
        }
        if let depth {
            guard depth >= 1 else { throw ValidationError("--depth: expected a positive number of layers, got \(depth)") }
            model.encoderLayers = depth; model.decoderLayers = depth
        }
        if let dropout {
            guard (0..<1).contains(dropout) else { throw ValidationError("--dropout: expected a rate in [0, 1), got \(dropout)") }
            model.dropout = dropout
        }
        guard batch >= 1 else { throw ValidationError("--batch: expected at least 1 sentence, got \(batch)") }
        let tested = try parseModes(modes, option: "--modes")
        guard !tested.isEmpty, !tested.contains(.full) else {
            throw ValidationError("--modes: expected reconstruction or hybrid:K (K >= 1), got '\(modes)'")
        }
        var faults: InjectedFaults = []
        for name in fault {
            guard let match = InjectedFaults.named.first(where: { $0.0 == name }) else {
                throw ValidationError("--fault: unknown fault '\(name)'; known: \(InjectedFaults.named.map(\.0).joined(separator: ", "))")
            }
            faults.insert(match.1)
        }
        if let depthSweep { return try sweep(depthSweep, model: model, faults: faults) }
        if self.model == "baseline" {
            guard fault.isEmpty else { throw ValidationError("--fault: the injected faults live in the reversible super-network, not the baseline") }
            let baseline = TransformerBaseline(matching: model)
            let report = try Verification.run(model: baseline, name: "baseline", batchSize: batch, seed: seed)
            return try finish(report)
        }
        guard self.model == "reversible" else {
            throw ValidationError("--model: expected reversible or baseline, got '\(self.model)'")
        }

        var setup = VerificationSetup(model: model, modes: tested)
        setup.seed = seed
        setup.batchSize = batch
        setup.faults = faults
        var report = try Verification.run(setup)
        if secondOrder { report.secondOrder = try SecondOrderCheck.run(model, seed: seed) }
        try finish(report)
    }

    func finish(_ report: VerificationSummary) throws {
        print(report.text(verbose: verbose))
        if let jsonPath { try AtomicFile.writeJSON(report, to: jsonPath) }
        if !report.passed { throw ExitCode(1) }
    }

    func sweep(_ list: String, model base: ModelConfig, faults: InjectedFaults) throws {
        let depths = try parsePositiveInts(list, option: "--depth-sweep")
        var table = TextTable("depth", "recon act err", "recon grad err", "hybrid:\(hybridEvery) act err", "hybrid:\(hybridEvery) grad err",
                          "f32 full vs f64", "f32 allowance", "act tol", "grad tol", "recon pass", "hybrid pass")
        print("Float32 error vs depth (d = \(base.modelWidth), seed \(seed), ragged batch): max over layers of the relative layer-input")
        print("error; max over tensors of the gradient error ||Δg|| / max(||g||, 1e-3 ||g_model||); Float32 (full storage or a mode) vs Float64.")
        for depth in depths {
            var model = base
            model.dtype = .float32
            model.encoderLayers = depth
            model.decoderLayers = depth
            var setup = VerificationSetup(model: model, modes: [.reconstruction, .hybrid(every: hybridEvery)])
            setup.seed = seed
            setup.batchSize = batch
            setup.faults = faults
            setup.layouts = [.ragged]
            setup.fullChecks = false
            let steps = try Verification.run(setup).steps
            let twin = steps.compactMap(\.float64Reference)
            table.add(String(depth), sci(steps[0].maxActivationRelError), sci(steps[0].maxGradScaledError),
                      sci(steps[1].maxActivationRelError), sci(steps[1].maxGradScaledError),
                      sci(twin.map(\.maxFloat32Error).max() ?? .nan), sci(twin.first?.allowance ?? .nan),
                      sci(steps[0].tolerance.activation), sci(steps[0].tolerance.gradient),
                      steps[0].passed ? "yes" : "NO", steps[1].passed ? "yes" : "NO")
            print("  depth \(depth) done")
        }
        print(table.rendered)
    }
}
