import Foundation
import Profiler
import Reversible
import Search
import TensorCore
import Verifier

/// The charts and the one-page HTML report of a search run, made from RUN's logs (so a
/// resumed run's report covers the whole search): softmax(alpha) per node over steps,
/// losses, peak memory per step and per layer, verification errors against their limits,
/// and the derived genotype.
struct SearchReport {
    let paths: SearchPaths
    let genotype: Genotype
    let settings: SearchRun.Settings
    let model: ModelConfig
    let options: BilevelSearch.Options

    /// Writes every SVG into RUN and `report.html` with the SVGs inline; returns the SVG files.
    @discardableResult
    func write() throws -> [String] {
        var sections: [(title: String, note: String, file: String, svg: String)] = []
        let losses = CSVLog.rows(paths.losses)
        if !losses.isEmpty {
            let x = losses.map { Double($0[0]) ?? .nan }
            let svg = SVGChart.series(title: "Losses (label-smoothed cross-entropy per token)", x: x,
                                      series: [("train half, theta step", smooth(losses.map { Double($0[2]) ?? .nan })),
                                               ("validation half, alpha step", smooth(losses.map { Double($0[3]) ?? .nan }))],
                                      xLabel: "search step", valueLabel: "loss")
            sections.append(("Losses", "Running means over \(window(losses.count)) steps; raw values per step in losses.csv.", "losses.svg", svg))
        }
        sections += cellDiagrams()
        sections += weightsHeatmap()
        sections += settlingCharts()
        sections += alphaCharts()
        sections += memoryCharts()
        sections += rankCharts()
        let checks = CSVLog.rows(paths.verification)
        if !checks.isEmpty {
            let x = checks.map { Double($0[0]) ?? .nan }
            let column = { (i: Int) in checks.map { Double($0[i]) ?? .nan } }
            let svg = SVGChart.series(title: "Verification: reconstruction vs full storage", x: x,
                                      series: [("layer inputs (max rel. error)", column(2)), ("gradients (max scaled error)", column(4)),
                                               ("Float32 vs Float64 twin (max)", column(8)),
                                               ("Float64 twin: reconstruction vs full", column(9))],
                                      xLabel: "search step", valueLabel: "error (log scale)", logScale: true,
                                      horizontalLines: [("input limit", column(6).last ?? .nan), ("gradient limit", column(7).last ?? .nan),
                                                        ("Float32 allowance", column(10).last ?? .nan)])
            let failed = checks.filter { $0.last != "true" }.count
            sections.append(("Verification", "\(checks.count) checks, \(failed) failed; per check in verification.csv.", "verification.svg", svg))
        }
        for section in sections { try AtomicWrite.write(Data(section.svg.utf8), to: "\(paths.run)/\(section.file)") }
        try AtomicWrite.write(Data(html(sections).utf8), to: paths.report)
        return sections.map(\.file)
    }

    var modeText: String { options.mode == .full ? "full storage" : options.mode.description }

    func window(_ count: Int) -> Int { max(1, count / 50) }

    /// Trailing running mean (losses per step are noisy: batches differ in length and content).
    func smooth(_ values: [Double]) -> [Double] {
        let w = window(values.count)
        var out: [Double] = [], sum = 0.0
        for (i, v) in values.enumerated() {
            sum += v
            if i >= w { sum -= values[i - w] }
            out.append(sum / Double(min(i + 1, w)))
        }
        return out
    }

    /// One chart per searched node: softmax(alpha) of each op over steps.
    /// The final softmax(alpha) of every node (rows) over the ops (columns), the derived op
    /// outlined, with the smallest margin named.
    func weightsHeatmap() -> [(title: String, note: String, file: String, svg: String)] {
        let rows = CSVLog.rows(paths.alphas).filter { $0.count >= 4 }
        guard let last = rows.compactMap({ Int($0[0]) }).max() else { return [] }
        var nodes: [String] = [], ops: [String] = [], weight: [String: [String: Double]] = [:]
        for row in rows where Int(row[0]) == last {
            if weight[row[1]] == nil { nodes.append(row[1]) }
            if !ops.contains(row[2]) { ops.append(row[2]) }
            weight[row[1], default: [:]][row[2]] = Double(row[3])
        }
        let values = nodes.map { node in ops.map { weight[node]?[$0] ?? .nan } }
        let marked = Set(nodes.enumerated().compactMap { i, node in chosenOp(node).flatMap { ops.firstIndex(of: $0) }.map { [i, $0] } })
        let settling = nodes.map { node in
            NodeSettling.settling(node: node, ops: ops.filter { weight[node]?[$0] != nil }, weights: ops.compactMap { weight[node]?[$0] })
        }
        let weakest = settling.min { $0.margin < $1.margin }
        let note = weakest.map { "Derived op outlined. Smallest margin \(String(format: "%.4f", $0.margin)): \($0.node), \($0.chosen) over \($0.runnerUp)." } ?? ""
        let svg = SVGChart.heatmap(title: "softmax(alpha) at step \(last), node by op", rows: nodes, columns: ops, values: values,
                                   marked: marked, note: note)
        return [("Architecture weights", note, "alpha-heatmap.svg", svg)]
    }

    /// Per step, the smallest margin of a chosen op over its runner-up and the mean
    /// normalised entropy of softmax(alpha) over the nodes (settling.csv).
    func settlingCharts() -> [(title: String, note: String, file: String, svg: String)] {
        let rows = CSVLog.rows(paths.settling).filter { $0.count >= 6 }
        let byStep = Dictionary(grouping: rows) { Int($0[0]) ?? -1 }.filter { $0.key >= 0 }
        guard !byStep.isEmpty else { return [] }
        let steps = byStep.keys.sorted()
        let margins = steps.map { step in byStep[step, default: []].compactMap { Double($0[4]) }.min() ?? .nan }
        let entropies = steps.map { step in
            let values = byStep[step, default: []].compactMap { Double($0[5]) }
            return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        }
        let (lastChange, chosen) = SearchLogs.choices(paths)
        let identity = chosen.values.filter { $0 == "identity" }.count
        let svg = SVGChart.series(title: "Settling of the architecture weights", x: steps.map(Double.init),
                                  series: [("smallest margin of a chosen op", margins), ("mean normalised entropy", entropies)],
                                  xLabel: "search step", valueLabel: "softmax weight / entropy", format: { String(format: "%.3f", $0) })
        return [("Settling", "The genotype last changed at step \(lastChange) of \(steps.last ?? 0); identity chosen at \(identity) of "
                 + "\(chosen.count) nodes; per step and node in settling.csv.", "settling.svg", svg)]
    }

    func alphaCharts() -> [(title: String, note: String, file: String, svg: String)] {
        let rows = CSVLog.rows(paths.alphas)
        guard !rows.isEmpty else { return [] }
        var nodes: [String] = [], ops: [String: [String]] = [:], weights: [String: [Int: [String: Double]]] = [:]
        var steps: [Int] = []
        for row in rows where row.count >= 4 {
            guard let step = Int(row[0]), let w = Double(row[3]) else { continue }
            let (node, op) = (row[1], row[2])
            if ops[node] == nil { nodes.append(node); ops[node] = [] }
            if !ops[node]!.contains(op) { ops[node]!.append(op) }
            weights[node, default: [:]][step, default: [:]][op] = w
            if steps.last != step { steps.append(step) }
        }
        return nodes.map { node in
            let x = steps.map(Double.init)
            let series = ops[node]!.map { op in (op, steps.map { weights[node]?[$0]?[op] ?? .nan }) }
            let chosen = chosenOp(node)
            let svg = SVGChart.series(title: "softmax(alpha) of \(node)", x: x, series: series, xLabel: "search step",
                                      valueLabel: "weight", format: { String(format: "%.4f", $0) }, height: 360, fromZero: false)
            return ("softmax(alpha): \(node)", chosen.map { "Derived: \($0)." } ?? "", "alpha-\(node).svg", svg)
        }
    }

    func chosenOp(_ node: String) -> String? {
        let parts = node.split(separator: ".")
        guard parts.count == 3, let layer = Int(parts[1].dropFirst(5)), let split = Int(parts[2].dropFirst(5)) else { return nil }
        let layers = parts[0] == "encoder" ? genotype.encoder : genotype.decoder
        guard layer - 1 < layers.count, split - 1 < layers[layer - 1].count else { return nil }
        return layers[layer - 1][split - 1]
    }

    /// The derived block drawn per stack: each layer's splits, the op each node chose (with
    /// its softmax weight) and what it pools; the decoder's last split is the fixed
    /// cross-attention.
    func cellDiagrams() -> [(title: String, note: String, file: String, svg: String)] {
        [("encoder", genotype.encoder), ("decoder", genotype.decoder)].map { stack, layers in
            let drawn = layers.enumerated().map { i, nodes in
                nodes.enumerated().map { k, op in (op: op, weight: genotype.weights?["\(stack).layer\(i + 1).split\(k + 1)"]?[op]) }
                    + (stack == "decoder" ? [(op: "cross_attn", weight: nil)] : [])
            }
            let svg = SVGChart.cellDiagram(title: "Derived \(stack) block: Y_k = X_k + G_k(H_k)", layers: drawn, pooling: genotype.pooling.rawValue)
            let memory = stack == "decoder" ? " The fixed cross_attn attends to the encoder's output." : ""
            return ("Derived \(stack) block", "Each lane is a split; H_k pools the outputs of the splits before it and the inputs of the splits after it." + memory,
                    "derived-\(stack).svg", svg)
        }
    }

    /// Peak activation, total and reserved memory per step, and each layer's largest peak.
    func memoryCharts() -> [(title: String, note: String, file: String, svg: String)] {
        let rows = CSVLog.rows(paths.memory)
        guard !rows.isEmpty else { return [] }
        let header = (try? String(contentsOfFile: paths.memory, encoding: .utf8))?.split(separator: "\n").first?
            .split(separator: ",").map(String.init) ?? []
        let x = rows.map { Double($0[0]) ?? .nan }
        let perStep = SVGChart.series(title: "Peak memory of every search step (\(modeText))", x: x,
                                      series: [("activation", rows.map { Double($0[1]) ?? .nan }), ("total (all categories)", rows.map { Double($0[2]) ?? .nan }),
                                               ("reserved by the cache", rows.map { $0.count > 3 ? Double($0[3]) ?? .nan : .nan })],
                                      xLabel: "search step", valueLabel: "bytes", format: SVGChart.bytesText)
        let firstLayer = 6
        let layers = Array(header.dropFirst(firstLayer))
        let largest = layers.indices.map { i in rows.compactMap { $0.count > i + firstLayer ? Double($0[i + firstLayer]) : nil }.max() ?? 0 }
        let peak = rows.compactMap { Int($0[1]) }.max() ?? 0
        let perLayer = SVGChart.groupedBars(title: "Largest peak activation memory per layer over the search", categories: layers,
                                            series: [(modeText, largest)], valueLabel: "bytes",
                                            note: "Each bar is its layer's own peak; they fall at different moments and do not add up to "
                                                + "a step's peak (largest: \(SVGChart.bytesText(Double(peak)))).")
        let at = rows.first { Int($0[1]) == peak }
        var saving = ""
        if let data = FileManager.default.contents(atPath: paths.memoryReference),
           let r = try? JSONDecoder().decode(MemoryReference.self, from: data) {
            saving = " On step \(r.step)'s theta batch one training step peaks at \(SVGChart.bytesText(Double(r.fullStorageBytes))) of activations "
                + "with full storage and \(SVGChart.bytesText(Double(r.modeBytes))) with \(r.mode): \(String(format: "%.2f", r.savingFactor))x less."
        }
        return [("Memory per step", "Largest step peak: \(SVGChart.bytesText(Double(peak))) of activations at step \(at?[0] ?? "?") "
                 + "(\(at?[4] ?? "?"), \(at?[5] ?? "?")); per step and layer in memory.csv.\(saving)", "memory-per-step.svg", perStep),
                ("Memory per layer", "", "memory-per-layer.svg", perLayer)]
    }

    /// A data-parallel search's ranks: the share of each one's step time spent summing
    /// gradients, and with the profiler each one's peak activation memory, per step.
    func rankCharts() -> [(title: String, note: String, file: String, svg: String)] {
        let rows = CSVLog.rows(paths.ranks).filter { $0.count >= 7 }
        let ranks = Set(rows.compactMap { Int($0[1]) }).sorted()
        guard ranks.count > 1 else { return [] }
        // Every step any rank logged (a search resumed with another N has ranks for part of it).
        let steps = Set(rows.compactMap { Int($0[0]) }).sorted()
        let byRankAndStep = Dictionary(rows.compactMap { row in Int(row[1]).flatMap { r in Int(row[0]).map { ("\(r):\($0)", row) } } },
                                       uniquingKeysWith: { $1 })
        func series(_ value: ([String]) -> Double?) -> [(String, [Double])] {
            ranks.map { r in ("rank \(r)", steps.map { byRankAndStep["\(r):\($0)"].flatMap(value) ?? .nan }) }
        }
        let x = steps.map(Double.init)
        let share = { (row: [String]) -> Double? in
            guard let step = Double(row[2]), let sums = Double(row[3]), step > 0 else { return nil }
            return 100 * sums / step
        }
        let total = rows.reduce((0.0, 0.0)) { ($0.0 + (Double($1[2]) ?? 0), $0.1 + (Double($1[3]) ?? 0)) }
        var charts = [("Processes", "\(ranks.count) processes (mpirun -np \(ranks.count)); gradient sums took \(String(format: "%.1f", 100 * total.1 / max(total.0, 1e-12)))% "
                       + "of all ranks' step time (waiting for the slowest rank included); per step and rank in ranks.csv.", "ranks-communication.svg",
                       SVGChart.series(title: "Gradient sums (MPI_Allreduce) as % of each rank's step time", x: x, series: series(share),
                                       xLabel: "search step", valueLabel: "% of step"))]
        if rows.contains(where: { !$0[4].isEmpty }) {
            charts.append(("Memory per rank", "Each rank's peak activation memory on its share of the batch.", "ranks-memory.svg",
                           SVGChart.series(title: "Peak activation memory per rank (\(modeText))", x: x, series: series { Double($0[4]) },
                                           xLabel: "search step", valueLabel: "bytes", format: SVGChart.bytesText)))
        }
        return charts
    }

    func html(_ sections: [(title: String, note: String, file: String, svg: String)]) -> String {
        func esc(_ s: String) -> String { SVGChart.escape(s) }
        var rows = ""
        for (stack, layers) in [("encoder", genotype.encoder), ("decoder", genotype.decoder)] {
            for (i, nodes) in layers.enumerated() {
                for (k, op) in nodes.enumerated() {
                    let node = "\(stack).layer\(i + 1).split\(k + 1)"
                    let w = genotype.weights?[node]?[op].map { String(format: "%.3f", $0) } ?? "-"
                    rows += "<tr><td>\(node)</td><td><b>\(esc(op))</b></td><td>\(w)</td></tr>\n"
                }
                if stack == "decoder" { rows += "<tr><td>decoder.layer\(i + 1).split\(nodes.count + 1)</td><td>cross_attn (fixed)</td><td>-</td></tr>\n" }
            }
        }
        let lossRows = CSVLog.rows(paths.losses)
        let seconds = lossRows.last.flatMap { Double($0[6]) } ?? 0
        let elapsed = lossRows.compactMap { $0.count > 6 ? Double($0[6]) : nil }
        let perStep = zip(elapsed.dropFirst(), elapsed).map { $0 - $1 }.filter { $0 >= 0 }.sorted()
        let stepText = perStep.isEmpty ? "" : String(format: ", %.2f s per step (median)", perStep[perStep.count / 2])
        let derived = ParameterCount.of(genotype.modelConfig(base: model, encoderLayers: model.encoderLayers, decoderLayers: model.decoderLayers),
                                        registry: settings.registry)
        let searched = ParameterCount.of(model, registry: settings.registry)
        let counts = derived.map { d in "<p>The derived block (the genotype's ops, \(model.encoderLayers) + \(model.decoderLayers) layers, vocabulary "
            + "\(model.targetVocabulary)): \(d) parameters" + (searched.map { "; the super-network searched: \($0)" } ?? "") + ".</p>" } ?? ""
        let summary = """
            <p>\(lossRows.count) search steps (order \(options.order.rawValue), \(modeText)) (the run's last session took \(duration(seconds)) of wall-clock time\(stepText));
            alpha's learning rate \(options.alphaLearningRate), entropy weight \(options.alphaEntropyWeight), \(options.alphaWarmup) warm-up steps of theta alone before alpha's first update;
            d = \(model.modelWidth), e = \(model.embeddingWidth), n = \(model.splits) (decoder \(model.splits + 1)), s = \(model.encoderLayers) searched layers,
            \(model.heads) heads, \(model.pooling.rawValue) pooling, \(model.wrap.rawValue) ops, \(model.mixture.rawValue) mixture, dropout \(model.dropout), \(model.dtype); corpus \(esc(settings.data)) \(esc(settings.source))-\(esc(settings.target)).
            Files: genotype.json, losses.csv, alphas.csv, settling.csv, memory.csv, verification.csv, search.json + search-stepN.safetensors (checkpoint).</p>
            """
        var body = ""
        for s in sections {
            body += "<h2>\(esc(s.title))</h2>\n" + (s.note.isEmpty ? "" : "<p>\(esc(s.note))</p>\n") + s.svg + "\n"
        }
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>RevSearch search report</title>
            <style>body{font-family:Helvetica,Arial,sans-serif;max-width:980px;margin:24px auto;padding:0 12px}
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}svg{max-width:100%;height:auto}</style>
            </head><body>
            <h1>RevSearch search report</h1>
            \(summary)
            <h2>Derived genotype</h2>
            <table><tr><th>node</th><th>op</th><th>softmax(alpha)</th></tr>
            \(rows)</table>
            \(counts)
            \(body)
            </body></html>

            """
    }
}
