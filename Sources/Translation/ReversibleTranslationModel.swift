import Ops
import Reversible
import TensorCore

/// A reversible encoder-decoder (a derived architecture, one op per node) as a
/// `TranslationModel`: trained with its setup's backprop mode, translated by encoding a
/// batch once and decoding prefixes against that encoder output.
public final class ReversibleTranslationModel: TranslationModel {
    public let model: ReversibleTransformer
    public let setup: ReversibleSetup

    public init(_ setup: ReversibleSetup, registry: OpRegistry = .standard) throws {
        model = try ReversibleTransformer(setup.config, registry: registry)
        self.setup = setup
    }

    public var parameters: [(name: String, tensor: Tensor)] { model.parameters }
    public var targetVocabulary: Int { model.config.targetVocabulary }
    public var architecture: ModelArchitecture { .reversible(setup) }

    public func trainingStep(_ batch: Seq2SeqBatch, dropoutKey: UInt64, labelSmoothing: Double) -> Double {
        model.trainingStep(batch, mode: setup.backprop, dropoutKey: dropoutKey, labelSmoothing: labelSmoothing)
    }

    public func evaluateLoss(_ batch: Seq2SeqBatch, labelSmoothing: Double) -> Double {
        model.evaluateLoss(batch, dropoutKey: 0, training: false, labelSmoothing: labelSmoothing)
    }

    public func encode(_ batch: Seq2SeqBatch) -> EncodedSource {
        let mask = Seq2SeqBatch.additiveMask(lengths: batch.sourceLengths, length: batch.sourceLength, dtype: model.config.dtype)
        return EncodedSource(memory: model.encode(batch), mask: mask, sourceLengths: batch.sourceLengths)
    }

    public func decode(_ encoded: EncodedSource, targetInput: [[Int32]], lastPositionOnly: Bool) -> Tensor {
        Runtime.current.withTape(nil) {
            let length = targetInput.first?.count ?? 0
            precondition(targetInput.allSatisfy { $0.count == length }, "decoder inputs must share one length")
            var top = model.decodeTop(memory: encoded.memory, memoryMask: encoded.mask, targetInput: targetInput.flatMap { $0 },
                                      batch: targetInput.count, length: length)
            // The output head works position by position: slicing first saves its cost.
            if lastPositionOnly { top = lastPositions(top, 1) }
            let v = targetVocabulary
            return reshape(withScope("decoder") { model.logits(top) },
                           lastPositionOnly ? [targetInput.count, v] : [targetInput.count, length, v])
        }
    }

    public func startDecoding() -> DecodingState { model.startDecoding() }

    public func decodeStep(_ encoded: EncodedSource, tokens: [Int32], state: inout DecodingState) -> Tensor {
        Runtime.current.withTape(nil) {
            let top = model.decodeStep(memory: encoded.memory, memoryMask: encoded.mask, tokens: tokens, state: &state)
            return reshape(withScope("decoder") { model.logits(top) }, [tokens.count, targetVocabulary])
        }
    }
}
