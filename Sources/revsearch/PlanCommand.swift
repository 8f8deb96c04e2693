import ArgumentParser
import Foundation
import InstrumentedRun
import Profiler
import Reversible
import TensorCore
import Verifier

/// `revsearch plan`: a step's peak memory predicted by a shape-only dry run (the same model
/// code, the allocator hooks firing as in a real step, no arithmetic), per backprop mode,
/// with the arithmetic each mode's recomputation costs; for a budget, the mode to use and,
/// with `--largest d`, the largest width each mode fits, by bisection over dry runs.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict a step's peak memory per backprop mode (shape-only dry run); pick the mode and largest d for a budget."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The step: training (super-network forward and backward), search (alpha and theta steps with Adam) or baseline (the same-size Transformer).")
    var step = "training"
    @Option(help: "Backprop modes, comma-separated, or all (full, hybrid:1 ... hybrid:depth, reconstruction).") var modes = "all"
    @Option(help: "Layers in the encoder and in the decoder each (default: the preset's, or 2 with --data).") var depth: Int?
    @Option(help: "Hidden size d (default: the preset's, or 240 with --data).") var d: Int?
    @Option(help: "Factorised embedding width e (default: the preset's, or 64 with --data).") var e: Int?
    @Option(help: "n: encoder splits (default: the preset's, or 2 with --data).") var splits: Int?
    @Option(help: "Attention heads per split (default: the preset's, or 4 with --data).") var heads: Int?
    @Option(help: "Search steps' alpha gradient: 1 (first order) or 2 (second order, three more passes).") var order = 1
    @Option(help: "float32 or float64 (default: the preset's).") var dtype: String?
    @Option(help: "Sentences in the synthetic batch.") var batch = 8
    @Option(help: "Source and target length of the synthetic batch.") var length = 16
    @Option(help: "Search steps dry-run (the peak is the largest over them).") var steps = 3
    @Option(help: "Plan a search of this corpus (the model of `revsearch search`, its batches); needs --vocab.") var data: String?
    @Option(help: "Source language (with --data).") var src = "en"
    @Option(help: "Target language (with --data).") var tgt = "de"
    @Option(help: "Vocabulary file (with --data).") var vocab: String?
    @Option(help: "Tokens per batch (with --data; default 2048).") var maxTokens: Int?
    @Option(help: "Memory budget (e.g. 2GiB): say which modes fit and recommend the cheapest.") var budget: String?
    @Option(help: "With --budget: find the largest value of this that fits each mode (d).") var largest: String?
    @Option(help: "With --largest d: d moves in multiples of this.") var granularity = 24
    @Option(help: "With --largest d: the largest d tried.") var limit = 2400
    @Option(name: .customLong("json"), help: "Write the plan as JSON to this path (-: standard output); runs carry profile --json's fields.")
    var jsonPath: String?

    struct Output: Encodable {
        let step: String
        let budgetBytes: Int?
        let runs: [ProfileRun]
        let plan: [PlanRow]
        let recommended: String?
        let largest: [MemoryPlan.Largest]?
        enum CodingKeys: String, CodingKey {
            case step, runs, plan, recommended, largest
            case budgetBytes = "budget_bytes"
        }
    }

    struct PlanRow: Encodable {
        let mode: String
        let multiplyAdds: Int
        let recomputedFraction: Double
        let fits: Bool?
        enum CodingKeys: String, CodingKey {
            case mode, fits
            case multiplyAdds = "multiply_adds", recomputedFraction = "recomputed_fraction"
        }
    }

    func validate() throws {
        guard ["training", "search", "baseline"].contains(step) else {
            throw ValidationError("--step: expected training, search or baseline, found \"\(step)\"")
        }
        if data != nil && step != "search" { throw ValidationError("--data plans a search: use --step search (or leave --data out)") }
        if data != nil && modelOptions.config != nil {
            throw ValidationError("--config with --data: a plan of a corpus uses `revsearch search`'s model; set it with --d, --e, --splits, --heads, --depth")
        }
        try OptionRanges.layers("depth", depth)
        try OptionRanges.width("d", d)
        try OptionRanges.width("e", e)
        try OptionRanges.whole("splits", splits, 2...64)
        try OptionRanges.width("heads", heads)
        try OptionRanges.whole("order", order, 1...2)
        try OptionRanges.syntheticBatch(batch: batch, length: length)
        try OptionRanges.whole("steps", steps, 1...1000)
        if let maxTokens { try OptionRanges.tokens("max-tokens", maxTokens) }
        try OptionRanges.width("granularity", granularity)
        try OptionRanges.width("limit", limit)
        if let largest, largest != "d" { throw ValidationError("--largest: expected d, found \"\(largest)\"") }
        if largest != nil && budget == nil { throw ValidationError("--largest needs --budget") }
    }

    func run() throws {
        let started = Date()
        let budgetBytes = try budget.map { text in
            guard let bytes = MemoryBudget.parseSize(text) else { throw ValidationError("--budget: expected a size such as 2GiB, found \"\(text)\"") }
            return bytes
        }
        // With the JSON on standard output, the tables would corrupt it: it is the only output.
        let say: (String) -> Void = jsonPath == "-" ? { _ in } : { print($0) }
        let (config, profiling) = try configuration()
        let modeList = modes == "all" ? BackpropMode.planned(depth: config.encoderLayers) : try parseModes(modes, option: "--modes")
        let planned = step == "baseline" ? [BackpropMode.full] : modeList
        say("OpenBLAS core: \(BLAS.coreName); plan of a \(step) step\(step == "search" ? " (\(steps) steps)" : ""), d=\(config.modelWidth), "
              + "depth \(config.encoderLayers), \(config.dtype), " + (data == nil ? "batch \(batch)x\(length)" : "batches of \(data ?? "") up to \(profiling.search.maxTokens) tokens"))
        let entries = try MemoryPlan.entries(profiling, config: config, modes: planned, budget: budgetBytes)
        say(planText(entries))
        let recommended = budgetBytes == nil ? nil : MemoryPlan.recommended(entries)
        if let budgetBytes {
            say(recommended.map { "recommended under \(SVGChart.bytesText(Double(budgetBytes))): \($0.run.mode) "
                                    + "(predicted peak reserved \(SVGChart.bytesText(Double($0.run.peakReservedBytes))), +\(fixed(100 * $0.recomputedFraction, 1))% gemm arithmetic)" }
                  ?? "no mode fits \(SVGChart.bytesText(Double(budgetBytes))) at this d and batch")
        }
        var largestRows: [MemoryPlan.Largest]?
        if largest != nil, let budgetBytes {
            var table = TextTable("mode", "largest d", "predicted peak reserved at d", "next d (over budget)")
            largestRows = try planned.map { mode in
                let found = try MemoryPlan.largestWidth(profiling, config: config, mode: mode, budget: budgetBytes, granularity: granularity, limit: limit)
                table.add(found.mode, String(found.d), SVGChart.bytesText(Double(found.peakReservedBytes)), found.over > limit ? "past --limit" : String(found.over))
                return found
            }
            say("\nlargest d under \(SVGChart.bytesText(Double(budgetBytes))) (multiples of \(granularity)):")
            say(table.rendered)
        }
        say("planned in \(fixed(Date().timeIntervalSince(started), 2)) s (dry runs: no kernel ran)")
        if let jsonPath {
            let output = Output(step: step, budgetBytes: budgetBytes, runs: entries.map(\.run),
                                plan: entries.map { PlanRow(mode: $0.run.mode, multiplyAdds: $0.multiplyAdds, recomputedFraction: $0.recomputedFraction, fits: $0.fits) },
                                recommended: recommended?.run.mode, largest: largestRows)
            try AtomicFile.writeJSON(output, to: jsonPath)
        }
    }

    /// The model and the step to dry-run: a preset (or config) on a synthetic batch, or the
    /// search of a corpus as `revsearch search` would run it.
    func configuration() throws -> (ModelConfig, StepProfiling) {
        if let data {
            _ = try modelOptions.resolve()
            var settings = SearchRun.Settings(data: data, source: src, target: tgt, out: "")
            settings.vocabulary = vocab
            settings.model = try sized(settings.model)
            settings.search.order = order == 2 ? .second : .first
            settings.search.maxTokens = maxTokens ?? settings.search.maxTokens
            let (config, pairs) = try SearchRun(settings).planInputs()
            return (config, SearchRun.planProfiling(options: settings.search, pairs: pairs, registry: settings.registry, steps: steps))
        }
        let config = try sized(modelOptions.resolve())
        var profiling = StepProfiling(batch: batch, length: length)
        profiling.search.order = order == 2 ? .second : .first
        profiling.step = step == "search" ? .search(steps: steps) : step == "baseline" ? .baseline : .training
        return (config, profiling)
    }

    /// `model` with the size options given applied, and checked buildable.
    func sized(_ model: ModelConfig) throws -> ModelConfig {
        var config = model
        if let d { config.modelWidth = d }
        if let e { config.embeddingWidth = e }
        if let splits { config.splits = splits }
        if let heads { config.heads = heads }
        if let depth { config.encoderLayers = depth; config.decoderLayers = depth }
        if let dtype {
            guard let value = DType(name: dtype) else { throw ValidationError("--dtype: expected float32 or float64, got '\(dtype)'") }
            config.dtype = value
        }
        let problems = config.validate(registry: .standard)
        guard problems.isEmpty else { throw ValidationError("the model cannot be built:\n  " + problems.joined(separator: "\n  ")) }
        return config
    }

    func planText(_ entries: [MemoryPlan.Entry]) -> String {
        var table = TextTable("mode", "peak reserved", "peak total", "peak activation", "activation peak at", "phase", "gemm multiply-adds",
                              "recomputed", "fits")
        for e in entries {
            table.add(e.run.mode, SVGChart.bytesText(Double(e.run.peakReservedBytes)), SVGChart.bytesText(Double(e.run.peakTotalBytes)),
                      SVGChart.bytesText(Double(e.run.peakActivationBytes)),
                      e.run.peakActivationAt.layer.isEmpty ? "-" : e.run.peakActivationAt.layer, e.run.peakActivationAt.phase.rawValue,
                      sci(Double(e.multiplyAdds)), "+" + fixed(100 * e.recomputedFraction, 1) + "%", e.fits.map { $0 ? "yes" : "no" } ?? "-")
        }
        var text = table.rendered
        var categories = TextTable(columns: ["at the total peak"] + MemoryCategory.allCases.map(\.rawValue))
        for e in entries {
            categories.add(row: [e.run.mode] + MemoryCategory.allCases.map { SVGChart.bytesText(Double(e.run.bytesByCategoryAtPeakTotal[$0.rawValue] ?? 0)) })
        }
        text += "\n\nlive bytes by category at the moment of the total peak (they add up to it):\n" + categories.rendered
        guard let layers = entries.first?.run.layers.map(\.name), !layers.isEmpty else { return text }
        var perLayer = TextTable(columns: ["layer"] + entries.map(\.run.mode))
        for name in layers {
            perLayer.add(row: [name] + entries.map { e in SVGChart.bytesText(Double(e.run.layers.first { $0.name == name }?.peakActivationBytes ?? 0)) })
        }
        return text + "\n\npeak activation per layer (each layer's own peak; they fall at different moments and do not add up to the step's):\n"
            + perLayer.rendered
    }
}
