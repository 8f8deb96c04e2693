import Foundation
import Ops
import Reversible
import TensorCore
import Testing
import Translation

/// Incremental decoding (one position per step from cached state) against re-decoding the
/// whole prefix, at every step and after a beam reorder of the state, for the baseline, a
/// derived reversible model holding every decoder op, and a super-network with a plugin op
/// that relies on the protocol's default step. Float64, so the two differ by rounding only.
@Suite struct IncrementalDecodingTests {
    static let batch = TokenBatcher.batch([
        TokenizedPair(source: [270, 280, 290, 271, 100], target: [272]),
        TokenizedPair(source: [281, 282], target: [275]),
        TokenizedPair(source: [283, 284, 285], target: [277]),
    ])

    /// Largest |step - full| over the logits of every step, relative to the largest logit.
    /// Rows are reordered as a beam would before step 4 (a row dropped, one repeated).
    static func largestDifference(steps: Int, reorderedAt: Int = 4,
                                  step: ([Int], [Int32], inout DecodingState) -> [Double], start: () -> DecodingState,
                                  full: ([Int], [[Int32]]) -> [Double]) -> Double {
        var rows = [0, 1, 2]
        var prefixes: [[Int32]] = rows.map { _ in [BytePairEncoding.bos] }
        var state = start()
        var rng = RandomState(seed: 11)
        var worst = 0.0
        for t in 0..<steps {
            if t == reorderedAt {
                let pick = [2, 0, 0]
                state = state.selecting(rows: pick)
                rows = pick.map { rows[$0] }
                prefixes = pick.map { prefixes[$0] }
            }
            let incremental = step(rows, prefixes.map { $0.last! }, &state)
            let reference = full(rows, prefixes)
            let scale = reference.map(abs).max() ?? 1
            worst = max(worst, zip(incremental, reference).map { abs($0 - $1) }.max()! / scale)
            prefixes = prefixes.map { $0 + [Int32(4 + Int(rng.next() % 290))] }
        }
        return worst
    }

    static func check(_ model: TranslationModel) -> Double {
        let encoded = model.encode(batch)
        return largestDifference(steps: 9, step: { rows, tokens, state in
            model.decodeStep(encoded.select(rows: rows), tokens: tokens, state: &state).scalars
        }, start: { model.startDecoding() }, full: { rows, prefixes in
            model.decode(encoded.select(rows: rows), targetInput: prefixes, lastPositionOnly: true).scalars
        })
    }

    @Test func baselineStepsEqualFullDecoding() {
        let model = TransformerBaseline(.init(vocabulary: 300, modelWidth: 16, encoderLayers: 2, decoderLayers: 3, heads: 2,
                                              dropout: 0, dtype: .float64, seed: 4))
        let worst = Self.check(model)
        #expect(worst < 1e-12, "largest relative difference \(worst)")
    }

    /// Every standard decoder op at some node, convolutions wider than the steps taken
    /// (conv11 keeps a partial window) and narrower (conv3 drops positions), under either wrapper.
    @Test(arguments: OpWrap.allCases)
    func derivedReversibleStepsEqualFullDecoding(_ wrap: OpWrap) throws {
        let config = ModelConfig(sourceVocabulary: 300, targetVocabulary: 300, embeddingWidth: 8, modelWidth: 12, splits: 2,
                                 encoderLayers: 1, decoderLayers: 6, heads: 2, pooling: .max, wrap: wrap, dropout: 0, dtype: .float64,
                                 encoderGenotype: [["self_attn", "conv3"]],
                                 decoderGenotype: [["conv3", "dynconv3"], ["self_attn", "glu"], ["ffn", "conv11"],
                                                   ["dynconv7", "self_attn"], ["zero", "identity"], ["conv5", "ffn"]], seed: 3)
        let model = try ReversibleTranslationModel(ReversibleSetup(config: config, backprop: .reconstruction, genotype: "every-op.json"))
        let worst = Self.check(model)
        #expect(worst < 1e-12, "largest relative difference \(worst)")
    }

    /// A mixed node of every op plus a plugin causal convolution that does not implement
    /// `decodeStep`: the default (rerun over the kept prefix) must give the same result.
    @Test func superNetworkWithAPluginOpStepsEqualFullDecoding() throws {
        var registry = OpRegistry.standard
        registry.register("plugin_causal_conv") { spec, rng in PluginCausalConvolution(spec, rng: &rng) }
        let config = ModelConfig(sourceVocabulary: 300, targetVocabulary: 300, embeddingWidth: 8, modelWidth: 12, splits: 2,
                                 encoderLayers: 1, decoderLayers: 2, heads: 2, pooling: .mean, dropout: 0, dtype: .float64,
                                 encoderOps: registry.candidates(decoder: false), decoderOps: registry.candidates(decoder: true), seed: 5)
        let model = try ReversibleTransformer(config, registry: registry)
        let memory = model.encode(Self.batch)
        let mask = Seq2SeqBatch.additiveMask(lengths: Self.batch.sourceLengths, length: Self.batch.sourceLength, dtype: .float64)
        let worst = Self.largestDifference(steps: 7, step: { rows, tokens, state in
            model.decodeStep(memory: gatherRows(memory, rows), memoryMask: gatherRows(mask, rows), tokens: tokens, state: &state).scalars
        }, start: { model.startDecoding() }, full: { rows, prefixes in
            let top = model.decodeTop(memory: gatherRows(memory, rows), memoryMask: gatherRows(mask, rows),
                                      targetInput: prefixes.flatMap { $0 }, batch: rows.count, length: prefixes[0].count)
            return Runtime.current.withTape(nil) { lastPositions(top, 1) }.scalars
        })
        #expect(worst < 1e-12, "largest relative difference \(worst)")
    }
}

/// A causal width-2 convolution written as a user would, without a decoding step of its own.
final class PluginCausalConvolution: CandidateOp {
    let weight: Tensor

    init(_ spec: OpSpec, rng: inout RandomState) {
        weight = .parameter(xavier: [spec.channels, spec.channels, 2], fanIn: 2 * spec.channels, fanOut: 2 * spec.channels,
                            dtype: spec.dtype, rng: &rng)
    }

    var parameters: [(name: String, tensor: Tensor)] { [("conv.weight", weight)] }

    func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        conv1d(h, weight: weight, bias: nil, padding: .causal)
    }
}
