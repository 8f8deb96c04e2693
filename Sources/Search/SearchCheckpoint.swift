import Foundation
import Reversible
import TensorCore
import Translation

/// A search's state on disk: `<name>.json` (the model config, the search options, the
/// step, the data position, checksums) and the weights file it names,
/// `<name>-step<N>.safetensors`, holding theta and alpha (the model's parameters by name)
/// and both Adam optimisers' moments (`optimizer.theta.m.<param>`, `optimizer.alpha.v.<param>`,
/// ...), committed as one (`CheckpointCommit`). The randomness of a search (batch order,
/// dropout masks, the halves' split) derives from (seed, epoch, step), so these are its
/// whole RNG state. Format 1 (no checksums) is still read, unchecked.
public struct SearchCheckpoint: Codable, Sendable, ChecksummedRecord {
    public static let format = "revsearch-search-checkpoint-2"
    static let readableFormats = [format, "revsearch-search-checkpoint-1"]
    public var format = SearchCheckpoint.format
    public var model: ModelConfig
    public var options: BilevelSearch.Options
    public var step: Int
    public var epoch: Int
    public var batchIndex: Int
    /// Files relative to the checkpoint's directory.
    public var vocabulary: String
    public var weights: String
    public var weightsSHA256: String?
    public var vocabularySHA256: String?
    /// `CorpusFingerprint` of the searched pairs, when the writer gave one.
    public var corpusSHA256: String?

    enum CodingKeys: String, CodingKey {
        case format, model, options, step, epoch, vocabulary, weights
        case batchIndex = "batch_index", weightsSHA256 = "weights_sha256", vocabularySHA256 = "vocabulary_sha256"
        case corpusSHA256 = "corpus_sha256"
    }

    public init(of search: BilevelSearch, vocabulary: String, name: String) {
        model = search.model.config
        options = search.options
        step = search.stepCount
        epoch = search.epoch
        batchIndex = search.batchIndex
        self.vocabulary = vocabulary
        weights = CheckpointCommit.weightsFile(name: name, step: step)
    }

    static func optimizers(_ search: BilevelSearch) -> [(prefix: String, optimizer: Adam)] {
        [("optimizer.theta", search.thetaOptimizer), ("optimizer.alpha", search.alphaOptimizer)]
    }

    /// Commits weights, alphas and optimizer state with the JSON (`CheckpointCommit.write`).
    public func save(_ search: BilevelSearch, directory: String, name: String) throws {
        let parameters = search.model.parameters
        var tensors = parameters
        for (prefix, optimizer) in Self.optimizers(search) {
            for (param, _) in parameters {
                guard let state = optimizer.moments[param] else { continue }
                tensors += [("\(prefix).m.\(param)", state.m), ("\(prefix).v.\(param)", state.v)]
            }
        }
        var record = self
        record.vocabularySHA256 = try CorpusFingerprint.file("\(directory)/\(vocabulary)")
        try CheckpointCommit.write(record, tensors: tensors, metadata: ["format": Self.format, "step": String(step)],
                                   directory: directory, name: name) { $0.weightsSHA256 = $1 }
    }

    /// Reads `path` (the JSON), checking its format and checksum; errors name the file and
    /// what is wrong.
    public static func load(_ path: String) throws -> SearchCheckpoint {
        let checkpoint: SearchCheckpoint
        do { checkpoint = try CheckpointCommit.read(SearchCheckpoint.self, from: path, what: "search checkpoint", formats: readableFormats) { $0.format == format } } catch let error as CheckpointError {
            throw SearchError(error.description)
        }
        var ranges = RecordRanges()
        ranges.record(step: checkpoint.step, epoch: checkpoint.epoch, batchIndex: checkpoint.batchIndex,
                      weights: checkpoint.weights, vocabulary: checkpoint.vocabulary)
        let o = checkpoint.options
        ranges.whole("options.max_tokens", o.maxTokens, 1...(1 << 24))
        ranges.number("options.theta_peak_learning_rate", o.thetaPeakLearningRate, Double.leastNonzeroMagnitude...10, "a learning rate in (0, 10]")
        ranges.whole("options.theta_warmup", o.thetaWarmup, 0...1_000_000_000)
        ranges.number("options.alpha_learning_rate", o.alphaLearningRate, Double.leastNonzeroMagnitude...10, "a learning rate in (0, 10]")
        ranges.number("options.alpha_weight_decay", o.alphaWeightDecay, 0...1, "a weight decay in [0, 1]")
        ranges.number("options.label_smoothing", o.labelSmoothing, 0..<1, "a rate in [0, 1)")
        ranges.number("options.clip_norm", o.clipNorm, 0...1e12, "a norm in [0, 1e12] (0: no clipping)")
        ranges.number("options.hessian_step", o.hessianStep, Double.leastNonzeroMagnitude...1e6, "a positive step")
        ranges.number("options.alpha_entropy_weight", o.alphaEntropyWeight, 0...1000, "a weight in [0, 1000]")
        ranges.whole("options.alpha_warmup", o.alphaWarmup, 0...1_000_000_000)
        do { try ranges.check(path, what: "search checkpoint") } catch let error as CheckpointError { throw SearchError(error.description) }
        return checkpoint
    }

    /// Copies weights, alphas and both optimisers' moments into `search` (built from this
    /// checkpoint's config and options) and moves it to the saved step and data position.
    /// Every tensor must be present with the model's shape and dtype.
    public func restore(into search: BilevelSearch, directory: String) throws {
        let file = "\(directory)/\(weights)"
        if let expected = vocabularySHA256, try CorpusFingerprint.file("\(directory)/\(vocabulary)") != expected {
            throw SearchError("\(directory)/\(vocabulary): missing, or not the vocabulary this search was run with (its SHA-256 differs from the one the checkpoint records)")
        }
        let names = search.model.parameters.map(\.name)
        let moments = Self.optimizers(search).flatMap { prefix, _ in names.flatMap { ["\(prefix).m.\($0)", "\(prefix).v.\($0)"] } }
        let contents: SafeTensors.Contents
        do { contents = try CheckpointCommit.readWeights(of: self, directory: directory, required: Set(names), allowed: Set(names + moments)) } catch let error as CheckpointError {
            throw SearchError(error.description)
        }
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
            for (name, tensor) in parameters where contents["\(prefix).m.\(name)"] != nil || contents["\(prefix).v.\(name)"] != nil {
                let m = try stored("\(prefix).m.\(name)", like: tensor), v = try stored("\(prefix).v.\(name)", like: tensor)
                moments[name] = (m.converted(to: m.dtype, category: .optimizerState), v.converted(to: v.dtype, category: .optimizerState))
            }
            optimizer.restore(step: optimizer === search.alphaOptimizer ? search.alphaUpdates(afterStep: step) : step, moments: moments)
        }
        search.resume(step: step, epoch: epoch, batchIndex: batchIndex)
    }
}
