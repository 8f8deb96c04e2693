import ArgumentParser
import Foundation
import InstrumentedRun
import TensorCore
import Translation

/// `revsearch translate`: greedy or beam search with a trained checkpoint; reads a file or
/// standard input, writes detokenized text, one line per input line.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate text with a trained checkpoint (beam or greedy search)."
    )

    @Option(help: "The run's checkpoint.json (a baseline or a genotype model: the checkpoint says which).") var checkpoint: String
    @Option(help: "Input file, one sentence a line, plain or gzip (default: standard input).") var input: String?
    @Option(help: "Corpus directory: translate <data>/<split>.<src>[.gz] instead of --input.") var data: String?
    @Option(help: "With --data: the split to translate, e.g. test_2016_flickr.") var split: String?
    @Option(help: "With --data: the source language.") var src: String?
    @Option(help: "Output file (default, or -: standard output).") var output: String?
    @Option(help: "Beam width (1: greedy).") var beam = 5
    @Option(help: "Length penalty: scores are divided by length^lenpen.") var lenpen = 1.0
    @Option(help: "Sentences decoded together.") var batch = 32
    @Option(help: "Output length limit a * source length + b subwords (fairseq's --max-len-a).") var maxLenA = 1.5
    @Option(help: "Output length limit a * source length + b subwords (fairseq's --max-len-b).") var maxLenB = 10
    @Option(help: "Longest input sentence, in subwords: decoding re-runs the decoder over the whole prefix at every step (no incremental state), so time grows with the cube of the length; longer input lines are an error naming the line.")
    var maxSourceLength = 256
    @Option(help: "OpenBLAS threads.") var threads = 2

    func validate() throws {
        if data != nil && input != nil { throw ValidationError("--input and --data both name the sentences to translate; give one") }
        if data == nil && (split != nil || src != nil) { throw ValidationError("--split and --src go with --data") }
        try OptionRanges.whole("beam", beam, 1...1024)
        try OptionRanges.number("lenpen", lenpen, 0...10, "a length penalty in [0, 10]")
        try OptionRanges.whole("batch", batch, 1...65536)
        try OptionRanges.number("max-len-a", maxLenA, 0...100, "a factor in [0, 100]")
        try OptionRanges.whole("max-len-b", maxLenB, 1...100_000)
        try OptionRanges.whole("max-source-length", maxSourceLength, 1...100_000)
        try OptionRanges.threads(threads)
    }

    func run() throws {
        BLAS.threads = threads
        let record = try Checkpoint.load(checkpoint)
        let directory = (checkpoint as NSString).deletingLastPathComponent
        if let output, output != "-" {
            let target = URL(fileURLWithPath: output).standardizedFileURL.path
            let own = [checkpoint, "\(directory)/\(record.weights)", "\(directory)/\(record.vocabulary)"].map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            guard !own.contains(target) else { throw InputError("\(output): --output would overwrite the checkpoint's own files; choose another path") }
        }
        let vocabulary = try BytePairEncoding.load((directory as NSString).appendingPathComponent(record.vocabulary))
        let expected = record.model.vocabularies
        guard vocabulary.count == expected.source && vocabulary.count == expected.target else {
            throw InputError("\(directory)/\(record.vocabulary): \(vocabulary.count) pieces, the checkpoint's model has "
                           + (expected.source == expected.target ? "\(expected.source)" : "\(expected.source) (source) and \(expected.target) (target)"))
        }
        let model: any TranslationModel
        do { model = try record.model.build() } catch { throw InputError("\(checkpoint): \(error)") }
        try record.restore(directory: directory, into: model.parameters, optimizer: Adam(learningRate: 0))
        var lines: [String]
        var place = "standard input"
        if let data {
            guard let split, let src else { throw ValidationError("--data needs --split and --src") }
            place = try CorpusReader.path(directory: data, split: split, language: src)
            lines = try CorpusReader.readLines(place)
        } else if let input {
            place = input
            lines = try CorpusReader.readLines(input)
        } else {
            let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            lines = text.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
        }
        var options = DecodingOptions()
        options.beam = beam
        options.lengthPenalty = lenpen
        options.batchSize = batch
        options.maxLengthA = maxLenA
        options.maxLengthB = maxLenB
        let sources = lines.map { vocabulary.encode($0) }
        if let long = sources.firstIndex(where: { $0.count > maxSourceLength }) {
            throw InputError("\(place): line \(long + 1) has \(sources[long].count) subwords, "
                           + "more than --max-source-length \(maxSourceLength); split the sentence or raise the limit")
        }
        let outputs = BeamSearch.translate(model, sources: sources, options: options)
        let translated = outputs.map { vocabulary.decode($0) }.joined(separator: "\n") + (outputs.isEmpty ? "" : "\n")
        if let output, output != "-" {
            try AtomicWrite.write(Data(translated.utf8), to: output)
        } else {
            print(translated, terminator: "")
        }
    }
}
