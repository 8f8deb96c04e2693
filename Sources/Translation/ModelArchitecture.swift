import Ops
import Reversible

/// Which model family a run trains, with everything needed to rebuild it: what a
/// checkpoint records (see `Checkpoint` for the JSON), so `--resume` and `translate` build
/// the right model from the checkpoint alone.
public enum ModelArchitecture: Sendable, Equatable, CustomStringConvertible {
    /// The pre-LN Transformer baseline.
    case baseline(TransformerBaseline.Config)
    /// A reversible encoder-decoder derived from a genotype (one op per node).
    case reversible(ReversibleSetup)

    /// A freshly initialised model (weights from the config's seed); a reversible model's
    /// ops come from `registry`.
    public func build(registry: OpRegistry = .standard) throws -> any TranslationModel {
        switch self {
        case .baseline(let config):
            if case let problems = config.validate(), !problems.isEmpty { throw ModelError.invalidConfig(problems) }
            return TransformerBaseline(config)
        case .reversible(let setup): return try ReversibleTranslationModel(setup, registry: registry)
        }
    }

    /// The vocabulary sizes the source and target token ids index into.
    public var vocabularies: (source: Int, target: Int) {
        switch self {
        case .baseline(let config): (config.vocabulary, config.vocabulary)
        case .reversible(let setup): (setup.config.sourceVocabulary, setup.config.targetVocabulary)
        }
    }

    /// Encoder layers (the depth a profile is labelled with).
    public var encoderLayers: Int {
        switch self {
        case .baseline(let config): config.encoderLayers
        case .reversible(let setup): setup.config.encoderLayers
        }
    }

    public var description: String {
        switch self {
        case .baseline(let c):
            "baseline Transformer (d \(c.modelWidth), \(c.encoderLayers) + \(c.decoderLayers) layers, \(c.heads) heads)"
        case .reversible(let s):
            "reversible model from \(s.genotype) (d \(s.config.modelWidth), \(s.config.splits) splits, "
                + "\(s.config.encoderLayers) + \(s.config.decoderLayers) layers, backprop \(s.backprop))"
        }
    }
}

/// A derived reversible model as a run trains it: the full config (every layer's ops, so
/// the genotype file is not needed to rebuild it), the backprop mode, and the genotype
/// file it came from, kept for the record.
public struct ReversibleSetup: Sendable, Equatable {
    public var config: ModelConfig
    public var backprop: BackpropMode
    public var genotype: String

    public init(config: ModelConfig, backprop: BackpropMode, genotype: String) {
        self.config = config; self.backprop = backprop; self.genotype = genotype
    }
}
