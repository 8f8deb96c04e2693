import Reversible
import TensorCore
import Translation
import Verifier

/// The baseline Transformer as the verifier sees it (`revsearch verify --model baseline`):
/// the same training step and loss `train` runs, label smoothing 0.1.
extension TransformerBaseline: VerifiableModel {
    public var dtype: DType { config.dtype }
    public var depth: Int { max(config.encoderLayers, config.decoderLayers) }
    public var width: Int { config.modelWidth }

    public func step(_ batch: Seq2SeqBatch, dropoutKey: UInt64) -> Double {
        trainingStep(batch, dropoutKey: dropoutKey, labelSmoothing: 0.1)
    }

    public func loss(_ batch: Seq2SeqBatch) -> Double {
        evaluateLoss(batch, labelSmoothing: 0.1)
    }

    public func logits(_ batch: Seq2SeqBatch) -> Tensor {
        let inputs = (0..<batch.batchSize).map { Array(batch.targetInput[($0 * batch.targetLength)..<(($0 + 1) * batch.targetLength)]) }
        return decode(encode(batch), targetInput: inputs, lastPositionOnly: false)
    }

    public func copy(dtype: DType, dropout: Double?) throws -> TransformerBaseline {
        var changed = config
        changed.dtype = dtype
        if let dropout { changed.dropout = dropout }
        let copy = TransformerBaseline(changed)
        copyValues(of: parameters, into: copy.parameters)
        return copy
    }
}
