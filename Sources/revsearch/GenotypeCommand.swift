import ArgumentParser
import Foundation
import InstrumentedRun
import Search

/// `revsearch genotype random`: architectures drawn at random from a search's space, the
/// sanity baseline a searched genotype must beat; `revsearch genotype perturb`: a search's
/// genotype derived by what removing each op costs its super-network.
struct GenotypeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genotype",
        abstract: "Genotype files: draw random architectures from a search's space, or derive one by perturbation.",
        subcommands: [RandomGenotypeCommand.self, PerturbedGenotypeCommand.self]
    )
}

struct RandomGenotypeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random",
        abstract: "A genotype of the same shape as --like, each node's op drawn uniformly from the ops the search weighed there (never zero)."
    )

    @Option(help: "A searched genotype (RUN/genotype.json): its shape and search space.") var like: String
    @Option(help: "Seed of the draw.") var seed: UInt64
    @Option(help: "Where to write the random genotype.") var out: String

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out: expected a file path, found an empty one") }
    }

    func run() throws {
        // Another run's genotype is never replaced.
        guard !FileManager.default.fileExists(atPath: out) else { throw InputError("\(out): exists; give --out a new path") }
        let template = try Genotype.load(like)
        let drawn = Genotype.random(like: template, seed: seed)
        try drawn.save(to: out)
        print("random genotype (seed \(seed)) like \(like): \(out)")
        for (stack, layers) in [("encoder", drawn.encoder), ("decoder", drawn.decoder)] {
            print("  \(stack): " + layers.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: " "))
        }
    }
}
