import Ops
import Reversible
import Search
import Translation

/// The reversible model a genotype file describes, as `revsearch train --genotype` builds
/// it: the genotype's block of s layers stacked to `layers` encoder and `layers` decoder
/// layers (layer i uses block layer i mod s); d, e, n and the pooling from the genotype;
/// heads, dropout and seed from the command line; source and target vocabularies both the
/// joint BPE's. Errors name the file and the field.
public enum DerivedModel {
    /// Reads the genotype and checks it can be built with `heads` attention heads.
    public static func load(_ path: String, heads: Int, registry: OpRegistry = .standard) throws -> Genotype {
        let genotype = try Genotype.load(path)
        let problems = genotype.problems(registry: registry)
        guard problems.isEmpty else { throw InputError("\(path): invalid genotype:\n  " + problems.joined(separator: "\n  ")) }
        let n = genotype.splits, d = genotype.modelWidth
        guard heads >= 1, (d / n) % heads == 0, (d / (n + 1)) % heads == 0 else {
            throw InputError("--heads \(heads) must divide both split widths of \(path) (model_width \(d): \(d / n) in the encoder, "
                             + "\(d / (n + 1)) in the decoder)", usage: true)
        }
        return genotype
    }

    /// The setup of a checked genotype (`load`) stacked to `layers` + `layers`; with
    /// `embeddingWidth`, the factorised embedding (and the tied output layer) that wide
    /// instead of the genotype's e (a comparison with a baseline of wider embeddings); with
    /// `wrap`, its ops wrapped so instead of as the genotype says (an ablation of the wrapper).
    public static func setup(_ genotype: Genotype, path: String, layers: Int, heads: Int, dropout: Double, vocabulary: Int, seed: UInt64,
                             backprop: BackpropMode, embeddingWidth: Int? = nil, wrap: OpWrap? = nil,
                             registry: OpRegistry = .standard) throws -> ReversibleSetup {
        let base = ModelConfig(sourceVocabulary: vocabulary, targetVocabulary: vocabulary, heads: heads, dropout: dropout,
                               dtype: .float32, seed: seed)
        var config = genotype.modelConfig(base: base, encoderLayers: layers, decoderLayers: layers)
        if let embeddingWidth { config.embeddingWidth = embeddingWidth }
        if let wrap { config.wrap = wrap }
        // What a checked genotype cannot get wrong any more (layers, dropout) is the command line's.
        let problems = config.validate(registry: registry)
        guard problems.isEmpty else { throw InputError("\(path) with these options: " + problems.joined(separator: "; ")) }
        return ReversibleSetup(config: config, backprop: backprop, genotype: path)
    }
}
