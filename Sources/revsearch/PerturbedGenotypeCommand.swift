import ArgumentParser
import Foundation
import InstrumentedRun
import Search
import TensorCore
import Verifier

/// `revsearch genotype perturb`: derives a search's genotype by perturbation (each node's op
/// is the one whose removal raises the super-network's loss on alpha's data the most) and
/// says where it differs from the largest-alpha derivation.
struct PerturbedGenotypeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perturb",
        abstract: "Derive a search's genotype by perturbation: at each node the op whose removal from the trained super-network raises the loss on alpha's half the most."
    )

    @Option(name: .customLong("run"), help: "The search's run directory (its checkpoint is read, nothing in it is written).") var directory: String
    @Option(help: "Corpus directory the search ran on.") var data: String
    @Option(help: "Source language.") var src: String
    @Option(help: "Target language.") var tgt: String
    @Option(help: "Batches of alpha's half to measure on, evenly spaced over its length-sorted batches.") var batches = 16
    @Option(help: "Where to write the genotype.") var out: String
    @Option(help: "Also write every removal (node, op, softmax weight, loss, loss increase, chosen) as CSV here.") var csv: String?
    @Option(help: "OpenBLAS threads.") var threads = 2

    func validate() throws {
        try OptionRanges.whole("batches", batches, 1...100_000)
        try OptionRanges.threads(threads)
        guard !out.isEmpty else { throw ValidationError("--out: expected a file path, found an empty one") }
        if let csv, csv.isEmpty || csv == out { throw ValidationError("--csv: expected a file path other than --out") }
    }

    func run() throws {
        // Another run's files are never replaced.
        for path in [out] + (csv.map { [$0] } ?? []) where FileManager.default.fileExists(atPath: path) {
            throw InputError("\(path): exists; give a new path")
        }
        BLAS.threads = threads
        let start = Date()
        let search = try RestoredSearch.load(run: directory, data: data, source: src, target: tgt)
        let sample = search.validationSample(batches: batches)
        let measurement = PerturbationDerivation.measure(search.model, batches: sample, labelSmoothing: search.options.labelSmoothing) { removal, done, total in
            if done % 10 == 0 || done == total {
                print("  \(done)/\(total) removals measured (\(fixed(Date().timeIntervalSince(start), 0)) s)")
                fflush(nil)
            }
        }
        let derived = PerturbationDerivation.genotype(search.model, measurement)
        let byAlpha = Genotype.derive(from: search.model)
        try derived.save(to: out)
        if let csv { try writeCSV(measurement, to: csv) }
        print("search \(directory) at step \(search.stepCount): loss \(fixed(measurement.baseLoss, 4)) on \(measurement.batches) batches of alpha's half (\(measurement.tokens) target tokens)")
        let base = measurement.baseLoss
        func cost(_ r: PerturbationDerivation.Removal) -> String { "\(r.op) " + String(format: "%+.4f", r.loss - base) }
        for node in nodeOrder(measurement) {
            let rows = measurement.removals.filter { $0.node == node && $0.op != "zero" }.sorted { $0.loss > $1.loss }
            guard let top = rows.first, let alphaPick = rows.max(by: { $0.weight < $1.weight }) else { continue }
            let agreement = alphaPick.op == top.op ? "as by alpha" : "by alpha: " + cost(alphaPick)
            print("  \(node): " + rows.prefix(3).map(cost).joined(separator: ", ") + " (\(agreement))")
        }
        for (stack, layers) in [("encoder", derived.encoder), ("decoder", derived.decoder)] {
            print("  \(stack): " + layers.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: " "))
        }
        let pairs = zip(Array((derived.encoder + derived.decoder).joined()), Array((byAlpha.encoder + byAlpha.decoder).joined()))
        let differing = pairs.filter { $0.0 != $0.1 }.count
        print("genotype by perturbation: \(out) (\(differing) of \(nodeOrder(measurement).count) nodes differ from the largest-alpha derivation) in \(fixed(Date().timeIntervalSince(start), 0)) s")
    }

    func nodeOrder(_ measurement: PerturbationDerivation.Measurement) -> [String] {
        measurement.removals.map(\.node).uniqued()
    }

    func writeCSV(_ measurement: PerturbationDerivation.Measurement, to path: String) throws {
        var text = "node,op,weight,loss,increase,chosen\n"
        for node in nodeOrder(measurement) {
            let chosen = measurement.chosen(node: node)
            for r in measurement.removals where r.node == node {
                text += "\(r.node),\(r.op),\(r.weight),\(r.loss),\(r.loss - measurement.baseLoss),\(r.op == chosen ? 1 : 0)\n"
            }
        }
        try AtomicWrite.write(Data(text.utf8), to: path)
    }
}

extension Array where Element: Hashable {
    /// The elements in first-seen order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
