import ArgumentParser
import Foundation
import Translation
import Verifier

/// `revsearch vocab`: learns a joint BPE vocabulary on the training split of both
/// languages and saves it; reports how it segments the validation split.
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Learn a joint byte-pair-encoding vocabulary from a parallel corpus."
    )

    @Option(help: "Corpus directory holding <split>.<lang>[.gz].") var data: String
    @Option(help: "Source language.") var src: String
    @Option(help: "Target language.") var tgt: String
    @Option(help: "Merges to learn.") var merges = 8000
    @Option(help: "Where to save the vocabulary (JSON).") var out: String

    func validate() throws {
        try OptionRanges.merges(merges)
    }

    func run() throws {
        let start = Date()
        let train = try CorpusReader.load(directory: data, split: "train", source: src, target: tgt)
        let bpe = BytePairEncoding.learn(train.source + train.target, merges: merges)
        try bpe.save(to: out)
        print("learned \(bpe.merges.count) merges, \(bpe.count) pieces from \(train.count) pairs (\(train.skippedEmpty) empty skipped) in \(fixed(Date().timeIntervalSince(start), 1)) s; saved \(out)")
        let val = try CorpusReader.load(directory: data, split: "val", source: src, target: tgt)
        let sentences = val.source + val.target
        let tokens = sentences.map { bpe.encode($0).count }.reduce(0, +)
        let words = sentences.map { $0.split(separator: " ").count }.reduce(0, +)
        let exact = sentences.filter { bpe.decode(bpe.encode($0)) == $0 }.count
        guard words > 0 else {
            print("val: no usable pairs (\(val.skippedEmpty) left out for an empty line); nothing to measure the vocabulary on")
            return
        }
        print("val: \(fixed(Double(tokens) / Double(words), 2)) tokens per word; \(exact) of \(sentences.count) sentences decode back exactly")
    }
}
