import Ops
import TensorCore

/// The two halves of the forward pass, apart: translation encodes a batch once and then
/// runs the decoder over growing prefixes against that one encoder output.
extension ReversibleTransformer {
    /// The encoder output [B, S, d] of a batch's sources: no dropout, nothing recorded.
    public func encode(_ batch: Seq2SeqBatch) -> Tensor {
        Runtime.current.withTape(nil) {
            let bc = batchContext(batch, dropoutKey: 0, training: false)
            let source = withScope("encoder") { embedSource(batch, bc) }
            return runStack("encoder", encoder, input: source, bc, memory: nil, keep: { _ in false }).output
        }
    }

    /// The decoder's top output [B, T, d] for the decoder inputs `targetInput` ([B, T] ids,
    /// every row a real prefix of length `length`, so no padding), attending to `memory`
    /// [B, S, d] under `memoryMask` [B, 1, 1, S]. No dropout, nothing recorded; `logits`
    /// turns (a slice of) it into scores.
    public func decodeTop(memory: Tensor, memoryMask: Tensor, targetInput: [Int32], batch: Int, length: Int) -> Tensor {
        Runtime.current.withTape(nil) {
            let dtype = config.dtype
            let lengths = Array(repeating: length, count: batch)
            let decoderBase = OpContext(memoryMask: memoryMask,
                                        keyMask: Seq2SeqBatch.additiveMask(lengths: lengths, length: length, dtype: dtype),
                                        positionMask: Seq2SeqBatch.positionMask(lengths: lengths, length: length, dtype: dtype))
            let bc = BatchContext(encoderBase: OpContext(), decoderBase: decoderBase, stepKey: 0, dropout: 0)
            let target = withScope("decoder") {
                withScope("embedding") {
                    targetEmbedding(targetInput, batch: batch, length: length, dropoutRate: 0, key: 0)
                }
            }
            return runStack("decoder", decoder, input: target, bc, memory: memory, keep: { _ in false }).output
        }
    }
}
