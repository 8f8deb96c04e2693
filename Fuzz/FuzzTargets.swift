import Foundation
import Reversible
import RunFiles
import Search
import TensorCore
import Translation

/// libFuzzer entry point over every reader of untrusted input. `REVSEARCH_FUZZ_TARGET`
/// picks the reader: safetensors, corpus, genotype, config, checkpoint, search-checkpoint,
/// probe, vocabulary or bpe (scripts/fuzz runs each). A reader may refuse its input with an
/// error, which is the point; a trap, a hang or a crash is what libFuzzer reports.
///
/// Readers that take a path get the input written to a scratch file first, so the fuzzed
/// path is the one a user's file takes (gzip detection, UTF-8 checks, line splitting).
func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    switch Fuzzing.target {
    case "safetensors":
        _ = try? SafeTensors.decode(data, file: "input.safetensors")
    case "corpus":
        try? Fuzzing.write(data, "train.en")
        try? Fuzzing.write(data.reversed(), "train.de")
        _ = try? CorpusReader.load(directory: Fuzzing.scratch, split: "train", source: "en", target: "de")
    case "genotype":
        try? Fuzzing.write(data, "genotype.json")
        if let genotype = try? Genotype.load(Fuzzing.path("genotype.json")), genotype.problems(registry: .standard).isEmpty {
            let base = ModelConfig(sourceVocabulary: 100, targetVocabulary: 100, heads: 1)
            _ = genotype.modelConfig(base: base, encoderLayers: 6, decoderLayers: 6).validate(registry: .standard)
        }
    case "config":
        try? Fuzzing.write(data, "model.json")
        _ = try? ModelConfigFile.load(Fuzzing.path("model.json"), over: ModelConfigFile.preset("tiny"))
    case "checkpoint":
        try? Fuzzing.write(data, "checkpoint.json")
        _ = try? Checkpoint.load(Fuzzing.path("checkpoint.json"))
    case "search-checkpoint":
        try? Fuzzing.write(data, "search.json")
        _ = try? SearchCheckpoint.load(Fuzzing.path("search.json"))
    case "probe":
        try? Fuzzing.write(data, "probe.json")
        _ = try? Probe(file: Fuzzing.path("probe.json"))
    case "vocabulary":
        try? Fuzzing.write(data, "vocab.json")
        if let vocabulary = try? BytePairEncoding.load(Fuzzing.path("vocab.json")) {
            _ = vocabulary.decode(vocabulary.encode("a small test sentence ."))
        }
    case "bpe":
        let text = String(decoding: data, as: UTF8.self)
        _ = Fuzzing.vocabulary.decode(Fuzzing.vocabulary.encode(text))
    default:
        FileHandle.standardError.write(Data("set REVSEARCH_FUZZ_TARGET to safetensors, corpus, genotype, config, checkpoint, search-checkpoint, probe, vocabulary or bpe\n".utf8))
        exit(64)
    }
    return 0
}

enum Fuzzing {
    static let target = ProcessInfo.processInfo.environment["REVSEARCH_FUZZ_TARGET"] ?? ""
    static let scratch: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-fuzz-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }()
    /// A vocabulary learned once from a few sentences, for the BPE encoder target.
    static let vocabulary = BytePairEncoding.learn(["a dog runs in the park .", "two dogs run in the green park .",
                                                    "ein Hund läuft im Park .", "zwei Hunde laufen im grünen Park ."], merges: 40, minimumFrequency: 1)

    static func path(_ name: String) -> String { "\(scratch)/\(name)" }

    static func write<D: DataProtocol>(_ bytes: D, _ name: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }
}
