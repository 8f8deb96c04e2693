import Foundation
import Ops
import Reversible
import TensorCore

/// Model presets and the JSON model-config format that `verify` (and later `profile`,
/// `search`, `train`) read. Every field is optional and overrides the preset:
///
///     { "n": 2, "depth": 6, "d": 240, "e": 32, "heads": 4, "ops": ["all"],
///       "pooling": "max", "wrap": "post-norm", "mixture": "plain", "dtype": "float64", "dropout": 0.1, "seed": 1 }
///
/// `depth` sets encoder and decoder layers alike; `encoder_layers` / `decoder_layers` set
/// them apart; `ops` sets both op lists; `encoder_ops` / `decoder_ops` set one.
public enum ModelConfigFile {
    public static let presets: [String: ModelConfig] = [
        // The search super-network of the paper's default: every op mixed at every node,
        // encoder 2 splits, decoder 3, d = 240 (240 = 2 x 120 = 3 x 80).
        "search": ModelConfig(sourceVocabulary: 64, targetVocabulary: 64, embeddingWidth: 32, modelWidth: 240, splits: 2,
                              encoderLayers: 2, decoderLayers: 2, heads: 4, pooling: .max, dropout: 0.1, dtype: .float32),
        // A small model with the same structure, for fast checks.
        "tiny": ModelConfig(sourceVocabulary: 24, targetVocabulary: 24, embeddingWidth: 8, modelWidth: 24, splits: 2,
                            encoderLayers: 2, decoderLayers: 2, heads: 2, pooling: .max, dropout: 0.1, dtype: .float64),
    ]

    public static func preset(_ name: String) throws -> ModelConfig {
        guard let config = presets[name] else {
            throw FileFormatError("unknown preset '\(name)'; presets: \(presets.keys.sorted().joined(separator: ", "))")
        }
        return config
    }

    /// Reads `path` over `base`; errors name the file and the field.
    public static func load(_ path: String, over base: ModelConfig) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileFormatError("\(path): cannot read the model config") }
        var reader = try JSONObjectReader(JSONValue.parse(data, file: path), file: path)
        var config = base
        if let n = try reader.int("n", in: 2...64) { config.splits = n }
        if let depth = try reader.int("depth", in: 1...SizeLimits.depth) { config.encoderLayers = depth; config.decoderLayers = depth }
        if let layers = try reader.int("encoder_layers", in: 1...SizeLimits.depth) { config.encoderLayers = layers }
        if let layers = try reader.int("decoder_layers", in: 1...SizeLimits.depth) { config.decoderLayers = layers }
        if let d = try reader.int("d", in: 1...SizeLimits.dimension) { config.modelWidth = d }
        if let e = try reader.int("e", in: 1...SizeLimits.dimension) { config.embeddingWidth = e }
        if let heads = try reader.int("heads", in: 1...SizeLimits.dimension) { config.heads = heads }
        if let vocabulary = try reader.int("vocabulary", in: 4...SizeLimits.dimension) { config.sourceVocabulary = vocabulary; config.targetVocabulary = vocabulary }
        if let ops = try reader.strings("ops") { config.encoderOps = ops.filter { $0 != "cross_attn" }; config.decoderOps = ops }
        if let ops = try reader.strings("encoder_ops") { config.encoderOps = ops }
        if let ops = try reader.strings("decoder_ops") { config.decoderOps = ops }
        if let pooling = try reader.string("pooling") {
            guard let value = Pooling(rawValue: pooling) else { throw reader.error("pooling", "expected \"max\" or \"mean\", found \"\(pooling)\"") }
            config.pooling = value
        }
        if let wrap = try reader.string("wrap") {
            guard let value = OpWrap(rawValue: wrap) else { throw reader.error("wrap", "expected \"post-norm\" or \"pre-norm\", found \"\(wrap)\"") }
            config.wrap = value
        }
        if let mixture = try reader.string("mixture") {
            guard let value = Mixture(rawValue: mixture) else { throw reader.error("mixture", "expected \"plain\" or \"normalised\", found \"\(mixture)\"") }
            config.mixture = value
        }
        if let dtype = try reader.string("dtype") {
            guard let value = DType(name: dtype) else { throw reader.error("dtype", "expected \"float32\" or \"float64\", found \"\(dtype)\"") }
            config.dtype = value
        }
        if let dropout = try reader.number("dropout", in: 0..<1, expected: "a rate in [0, 1)") { config.dropout = dropout }
        if let seed = try reader.int("seed", in: 0...Int.max) { config.seed = UInt64(seed) }
        try reader.finish()
        let problems = config.validate(registry: .standard)
        if !problems.isEmpty { throw FileFormatError("\(path): invalid model config:\n  " + problems.joined(separator: "\n  ")) }
        return config
    }
}

extension JSONObjectReader {
    /// A preset named by the field `key` (`fallback` when absent); an unknown name is an
    /// error naming the file and the field.
    public mutating func preset(_ key: String, default fallback: String) throws -> ModelConfig {
        let name = try string(key) ?? fallback
        guard let config = ModelConfigFile.presets[name] else {
            throw error(key, "unknown preset '\(name)'; presets: \(ModelConfigFile.presets.keys.sorted().joined(separator: ", "))")
        }
        return config
    }
}

extension JSONObjectReader {
    /// A backprop mode field: "full", "reconstruction" or "hybrid:K".
    public mutating func backprop(_ key: String) throws -> BackpropMode? {
        guard let text = try string(key) else { return nil }
        guard let mode = BackpropMode(text) else { throw error(key, "expected full, reconstruction or hybrid:K (K >= 1), found \"\(text)\"") }
        return mode
    }
}
