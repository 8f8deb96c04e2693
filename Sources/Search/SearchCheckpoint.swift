import Foundation
import Reversible
import TensorCore
import Translation

/// A search's state on disk: `<name>.safetensors` holds theta and alpha (the model's
/// parameters by name) and both Adam optimisers' moments (`optimizer.theta.m.<param>`,
/// `optimizer.alpha.v.<param>`, ...); `<name>.json` holds the model config, the search
/// options, the step and the data position. The randomness of a search (batch order,
/// dropout masks, the halves' split) derives from (seed, epoch, step), so these are its
/// whole RNG state. Both files are written atomically, the JSON last: a checkpoint is
/// complete when its JSON exists.
public struct SearchCheckpoint: Codable, Sendable {
    public static let format = "revsearch-search-checkpoint-1"
    public var format = SearchCheckpoint.format
    public var model: ModelConfig
    public var options: BilevelSearch.Options
    public var step: Int
    public var epoch: Int
    public var batchIndex: Int
    /// Files relative to the checkpoint's directory.
    public var vocabulary: String
    public var weights: String

    enum CodingKeys: String, CodingKey {
        case format, model, options, step, epoch, vocabulary, weights
        case batchIndex = "batch_index"
    }

    public init(of search: BilevelSearch, vocabulary: String, name: String) {
        model = search.model.config
        options = search.options
        step = search.stepCount
        epoch = search.epoch
        batchIndex = search.batchIndex
        self.vocabulary = vocabulary
        weights = "\(name).safetensors"
    }

    static func optimizers(_ search: BilevelSearch) -> [(prefix: String, optimizer: Adam)] {
        [("optimizer.theta", search.thetaOptimizer), ("optimizer.alpha", search.alphaOptimizer)]
    }

    /// Writes weights, alphas and optimizer state, then the JSON.
    public func save(_ search: BilevelSearch, directory: String, name: String) throws {
        let parameters = search.model.parameters
        var tensors = parameters
        for (prefix, optimizer) in Self.optimizers(search) {
            for (param, _) in parameters {
                guard let state = optimizer.moments[param] else { continue }
                tensors += [("\(prefix).m.\(param)", state.m), ("\(prefix).v.\(param)", state.v)]
            }
        }
        try SafeTensors.write(tensors, metadata: ["format": Self.format, "step": String(step)], to: "\(directory)/\(weights)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(try encoder.encode(self), to: "\(directory)/\(name).json")
    }

    /// Reads `path` (the JSON); errors name the file and what is wrong.
    public static func load(_ path: String) throws -> SearchCheckpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw SearchError("\(path): cannot read the search checkpoint") }
        let checkpoint: SearchCheckpoint
        do { checkpoint = try JSONDecoder().decode(SearchCheckpoint.self, from: data) } catch {
            throw SearchError("\(path): not a RevSearch search checkpoint: \(error)")
        }
        guard checkpoint.format == format else { throw SearchError("\(path): format '\(checkpoint.format)', expected \(format)") }
        return checkpoint
    }

    /// Copies weights, alphas and both optimisers' moments into `search` (built from this
    /// checkpoint's config and options) and moves it to the saved step and data position.
    /// Every tensor must be present with the model's shape and dtype.
    public func restore(into search: BilevelSearch, directory: String) throws {
        let file = "\(directory)/\(weights)"
        let contents = try SafeTensors.read(file)
        func stored(_ name: String, like target: Tensor) throws -> Tensor {
            guard let tensor = contents[name] else { throw SearchError("\(file): tensor '\(name)' is missing") }
            guard tensor.dtype == target.dtype, tensor.shape == target.shape else {
                throw SearchError("\(file): tensor '\(name)' is \(tensor.dtype) \(tensor.shape), the search's model needs \(target.dtype) \(target.shape)")
            }
            return tensor
        }
        let parameters = search.model.parameters
        for (name, tensor) in parameters {
            let value = try stored(name, like: tensor)
            tensor.buffer.raw.copyMemory(from: value.buffer.raw, byteCount: tensor.count * tensor.dtype.size)
        }
        for (prefix, optimizer) in Self.optimizers(search) {
            var moments: [String: (m: Tensor, v: Tensor)] = [:]
            for (name, tensor) in parameters where contents["\(prefix).m.\(name)"] != nil {
                let m = try stored("\(prefix).m.\(name)", like: tensor), v = try stored("\(prefix).v.\(name)", like: tensor)
                moments[name] = (m.converted(to: m.dtype, category: .optimizerState), v.converted(to: v.dtype, category: .optimizerState))
            }
            optimizer.restore(step: step, moments: moments)
        }
        search.resume(step: step, epoch: epoch, batchIndex: batchIndex)
    }
}
