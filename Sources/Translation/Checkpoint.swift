import Foundation
import Reversible
import TensorCore

/// Training state on disk: `<name>.json` (model family and config, options, step, data
/// position, checksums) and the weights file it names, `<name>-step<N>.safetensors`
/// (weights, then Adam's moments as `optimizer.m.<param>` / `optimizer.v.<param>`),
/// committed as one (`CheckpointCommit`): the JSON's rename is the commit point, and it
/// records the SHA-256 of the weights, of the vocabulary and of the training corpus, so a
/// damaged file, a swapped vocabulary or another corpus on `--resume` is refused.
///
/// The JSON names the model family: `"family": "baseline"` with the Transformer's config as
/// `model`, or `"family": "reversible"` with the reversible `ModelConfig` as `model`, the
/// backprop mode as `backprop` (`full`, `reconstruction`, `hybrid:K`) and the genotype file
/// the architecture came from as `genotype`. Formats 1 and 2 (format 1 knew only the
/// baseline and has no `family`) carry no checksums; they are still read, unchecked.
public struct Checkpoint: Sendable, ChecksummedRecord {
    public static let format = "revsearch-checkpoint-3"
    static let readableFormats = [format, "revsearch-checkpoint-2", "revsearch-checkpoint-1"]
    public var format = Checkpoint.format
    public var model: ModelArchitecture
    public var options: TrainingOptions
    /// Updates done.
    public var step: Int
    /// Data position of the next batch.
    public var epoch: Int
    public var batchIndex: Int
    /// The vocabulary file the token ids refer to (relative to the checkpoint's directory).
    public var vocabulary: String
    public var weights: String
    public var weightsSHA256: String?
    public var vocabularySHA256: String?
    /// `CorpusFingerprint` of the training pairs, when the writer gave one.
    public var corpusSHA256: String?

    public init(model: ModelArchitecture, options: TrainingOptions, step: Int, epoch: Int, batchIndex: Int, vocabulary: String, name: String) {
        self.model = model
        self.options = options
        self.step = step
        self.epoch = epoch
        self.batchIndex = batchIndex
        self.vocabulary = vocabulary
        weights = CheckpointCommit.weightsFile(name: name, step: step)
    }

    /// Commits weights and optimizer state with the JSON (`CheckpointCommit.write`).
    public func save(directory: String, name: String, parameters: [(name: String, tensor: Tensor)], optimizer: Adam) throws {
        var tensors = parameters
        for (param, _) in parameters {
            if let state = optimizer.moments[param] {
                tensors.append(("optimizer.m.\(param)", state.m))
                tensors.append(("optimizer.v.\(param)", state.v))
            }
        }
        var record = self
        record.vocabularySHA256 = try CorpusFingerprint.file("\(directory)/\(vocabulary)")
        try CheckpointCommit.write(record, tensors: tensors, metadata: ["format": Checkpoint.format, "step": String(step)],
                                   directory: directory, name: name) { $0.weightsSHA256 = $1 }
    }

    /// Reads `<path>` (the JSON), checking its format and its checksum.
    public static func load(_ path: String) throws -> Checkpoint {
        let checkpoint = try CheckpointCommit.read(Checkpoint.self, from: path, what: "checkpoint", formats: readableFormats) { $0.format == format }
        var ranges = RecordRanges()
        ranges.record(step: checkpoint.step, epoch: checkpoint.epoch, batchIndex: checkpoint.batchIndex,
                      weights: checkpoint.weights, vocabulary: checkpoint.vocabulary)
        checkpoint.options.checkRanges(&ranges)
        try ranges.check(path, what: "checkpoint")
        return checkpoint
    }

    /// Checks that the vocabulary file is the one the checkpoint was written with.
    public func checkVocabulary(directory: String) throws {
        guard let expected = vocabularySHA256 else { return }
        let path = "\(directory)/\(vocabulary)"
        guard let actual = try CorpusFingerprint.file(path) else { throw CheckpointError("\(path): missing; the checkpoint needs its vocabulary") }
        guard actual == expected else {
            throw CheckpointError("\(path): not the vocabulary this checkpoint was trained with (its SHA-256 differs from the one the checkpoint records)")
        }
    }

    /// Copies the stored weights and optimizer moments into `parameters` and `optimizer`,
    /// checking the file's digest and that every tensor is present with the right shape
    /// and dtype, and nothing else is.
    public func restore(directory: String, into parameters: [(name: String, tensor: Tensor)], optimizer: Adam) throws {
        let file = "\(directory)/\(weights)"
        try checkVocabulary(directory: directory)
        let names = parameters.map(\.name)
        let contents = try CheckpointCommit.readWeights(of: self, directory: directory, required: Set(names),
                                                        allowed: Set(names + names.flatMap { ["optimizer.m.\($0)", "optimizer.v.\($0)"] }))
        func matching(_ name: String, like target: Tensor) throws -> Tensor {
            guard let stored = contents[name] else { throw CheckpointError("\(file): tensor '\(name)' is missing") }
            guard stored.dtype == target.dtype else {
                throw CheckpointError("\(file): tensor '\(name)' is \(stored.dtype), the model's is \(target.dtype)")
            }
            guard stored.shape == target.shape else {
                throw CheckpointError("\(file): tensor '\(name)' has shape \(stored.shape), the config gives \(target.shape)")
            }
            return stored
        }
        var moments: [String: (m: Tensor, v: Tensor)] = [:]
        for (name, tensor) in parameters {
            let stored = try matching(name, like: tensor)
            tensor.buffer.raw.copyMemory(from: stored.buffer.raw, byteCount: tensor.count * tensor.dtype.size)
            // A parameter without gradients so far has no moments; one with moments has both.
            if contents["optimizer.m.\(name)"] != nil || contents["optimizer.v.\(name)"] != nil {
                let m = try matching("optimizer.m.\(name)", like: tensor), v = try matching("optimizer.v.\(name)", like: tensor)
                moments[name] = (m.converted(to: m.dtype, category: .optimizerState), v.converted(to: v.dtype, category: .optimizerState))
            }
        }
        optimizer.restore(step: step, moments: moments)
    }
}

extension Checkpoint: Codable {
    enum CodingKeys: String, CodingKey {
        case format, family, model, backprop, genotype, options, step, epoch, vocabulary, weights
        case batchIndex = "batch_index", weightsSHA256 = "weights_sha256", vocabularySHA256 = "vocabulary_sha256"
        case corpusSHA256 = "corpus_sha256"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        switch try c.decodeIfPresent(String.self, forKey: .family) ?? "baseline" {
        case "baseline":
            model = .baseline(try c.decode(TransformerBaseline.Config.self, forKey: .model))
        case "reversible":
            let text = try c.decode(String.self, forKey: .backprop)
            guard let backprop = BackpropMode(text) else {
                throw DecodingError.dataCorruptedError(forKey: .backprop, in: c, debugDescription: "expected full, reconstruction or hybrid:K, found '\(text)'")
            }
            model = .reversible(ReversibleSetup(config: try c.decode(ModelConfig.self, forKey: .model), backprop: backprop,
                                                genotype: try c.decode(String.self, forKey: .genotype)))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .family, in: c, debugDescription: "expected baseline or reversible, found '\(other)'")
        }
        options = try c.decode(TrainingOptions.self, forKey: .options)
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decode(Int.self, forKey: .epoch)
        batchIndex = try c.decode(Int.self, forKey: .batchIndex)
        vocabulary = try c.decode(String.self, forKey: .vocabulary)
        weights = try c.decode(String.self, forKey: .weights)
        weightsSHA256 = try c.decodeIfPresent(String.self, forKey: .weightsSHA256)
        vocabularySHA256 = try c.decodeIfPresent(String.self, forKey: .vocabularySHA256)
        corpusSHA256 = try c.decodeIfPresent(String.self, forKey: .corpusSHA256)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        switch model {
        case .baseline(let config):
            try c.encode("baseline", forKey: .family)
            try c.encode(config, forKey: .model)
        case .reversible(let setup):
            try c.encode("reversible", forKey: .family)
            try c.encode(setup.config, forKey: .model)
            try c.encode(setup.backprop.description, forKey: .backprop)
            try c.encode(setup.genotype, forKey: .genotype)
        }
        try c.encode(options, forKey: .options)
        try c.encode(step, forKey: .step)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(batchIndex, forKey: .batchIndex)
        try c.encode(vocabulary, forKey: .vocabulary)
        try c.encode(weights, forKey: .weights)
        try c.encodeIfPresent(weightsSHA256, forKey: .weightsSHA256)
        try c.encodeIfPresent(vocabularySHA256, forKey: .vocabularySHA256)
        try c.encodeIfPresent(corpusSHA256, forKey: .corpusSHA256)
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
