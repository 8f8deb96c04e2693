import Foundation
import Reversible
import TensorCore

/// Training state on disk: `<name>.safetensors` (weights, then Adam's moments as
/// `optimizer.m.<param>` / `optimizer.v.<param>`) and `<name>.json` (model family and
/// config, options, step, data position). Both written atomically; the JSON last, so a
/// checkpoint is complete when its JSON exists.
///
/// The JSON names the model family: `"family": "baseline"` with the Transformer's config as
/// `model`, or `"family": "reversible"` with the reversible `ModelConfig` as `model`, the
/// backprop mode as `backprop` (`full`, `reconstruction`, `hybrid:K`) and the genotype file
/// the architecture came from as `genotype`. Format 1 knew only the baseline and has no
/// `family`; it is still read, as a baseline.
public struct Checkpoint: Sendable {
    public static let format = "revsearch-checkpoint-2"
    static let readableFormats = [format, "revsearch-checkpoint-1"]
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

    /// Writes weights and optimizer state, then the JSON.
    public func save(directory: String, name: String, parameters: [(name: String, tensor: Tensor)], optimizer: Adam) throws {
        var tensors = parameters
        for (param, _) in parameters {
            if let state = optimizer.moments[param] {
                tensors.append(("optimizer.m.\(param)", state.m))
                tensors.append(("optimizer.v.\(param)", state.v))
            }
        }
        try SafeTensors.write(tensors, metadata: ["format": Checkpoint.format, "step": String(step)], to: "\(directory)/\(weights)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(try encoder.encode(self), to: "\(directory)/\(name).json")
    }

    /// Reads `<path>` (the JSON), checking it names a complete, matching weights file.
    public static func load(_ path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError("\(path): cannot read the checkpoint") }
        let checkpoint: Checkpoint
        do { checkpoint = try JSONDecoder().decode(Checkpoint.self, from: data) } catch {
            throw CheckpointError("\(path): not a RevSearch checkpoint: \(error)")
        }
        guard readableFormats.contains(checkpoint.format) else {
            throw CheckpointError("\(path): format '\(checkpoint.format)', expected one of \(readableFormats.joined(separator: ", "))")
        }
        return checkpoint
    }

    /// Copies the stored weights and optimizer moments into `parameters` and `optimizer`,
    /// checking every tensor is present with the right shape and dtype.
    public func restore(directory: String, into parameters: [(name: String, tensor: Tensor)], optimizer: Adam) throws {
        let file = "\(directory)/\(weights)"
        let contents = try SafeTensors.read(file)
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
            if contents["optimizer.m.\(name)"] != nil {
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
        case batchIndex = "batch_index"
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
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
