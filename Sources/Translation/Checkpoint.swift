import Foundation
import TensorCore

/// Training state on disk: `<name>.safetensors` (weights, then Adam's moments as
/// `optimizer.m.<param>` / `optimizer.v.<param>`) and `<name>.json` (model config,
/// options, step, data position). Both written atomically; the JSON last, so a checkpoint
/// is complete when its JSON exists.
public struct Checkpoint: Codable, Sendable {
    public static let format = "revsearch-checkpoint-1"
    public var format = Checkpoint.format
    public var model: TransformerBaseline.Config
    public var options: TrainingOptions
    /// Updates done.
    public var step: Int
    /// Data position of the next batch.
    public var epoch: Int
    public var batchIndex: Int
    /// The vocabulary file the token ids refer to (relative to the checkpoint's directory).
    public var vocabulary: String
    public var weights: String

    enum CodingKeys: String, CodingKey {
        case format, model, options, step, epoch, vocabulary, weights
        case batchIndex = "batch_index"
    }

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
        guard checkpoint.format == format else { throw CheckpointError("\(path): format '\(checkpoint.format)', expected \(format)") }
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

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
