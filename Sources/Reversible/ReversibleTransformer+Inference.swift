import Ops
import TensorCore

/// The two halves of the forward pass, apart: translation encodes a batch once and then
/// runs the decoder against that one encoder output, over a whole prefix or (incremental
/// decoding) one position at a time.
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
            let target = embedPrefix(targetInput, batch: batch, length: length, firstPosition: 0)
            let bc = prefixContext(memoryMask: memoryMask, batch: batch, length: length)
            return runStack("decoder", decoder, input: target, bc, memory: memory, keep: { _ in false }).output
        }
    }

    /// An empty incremental decoding state: one cache per op of every decoder node.
    public func startDecoding() -> DecodingState {
        DecodingState(ops: decoder.reduce(0) { $0 + $1.functions.reduce(0) { $0 + $1.ops.count } })
    }

    /// The decoder's top output [B, 1, d] at position `state.position` for the tokens
    /// there (one per row), every op reading what it cached of the earlier positions;
    /// equal to the last position of `decodeTop` over the whole prefix. Advances `state`.
    public func decodeStep(memory: Tensor, memoryMask: Tensor, tokens: [Int32], state: inout DecodingState) -> Tensor {
        Runtime.current.withTape(nil) {
            let (batch, position) = (tokens.count, state.position)
            var h = embedPrefix(tokens, batch: batch, length: 1, firstPosition: position)
            let bc = prefixContext(memoryMask: memoryMask, batch: batch, length: position + 1)
            var start = 0
            withScope("decoder") {
                for layer in decoder {
                    // This layer's caches (a slice of the flat state), split by split, and back.
                    let end = start + layer.functions.reduce(0) { $0 + $1.ops.count }
                    var offset = start
                    var caches = layer.functions.map { node in
                        defer { offset += node.ops.count }
                        return Array(state.caches[offset..<(offset + node.ops.count)])
                    }
                    h = withScope(layer.name) { layer.decodeStep(h, bc.contexts("decoder", layer: layer, memory: memory), caches: &caches) }
                    state.caches.replaceSubrange(start..<end, with: caches.joined())
                    start = end
                }
            }
            state.position += 1
            return h
        }
    }

    /// Target embeddings of ids [B, T] at positions firstPosition..., no dropout.
    func embedPrefix(_ ids: [Int32], batch: Int, length: Int, firstPosition: Int) -> Tensor {
        withScope("decoder") {
            withScope("embedding") {
                targetEmbedding(ids, batch: batch, length: length, firstPosition: firstPosition, dropoutRate: 0, key: 0)
            }
        }
    }

    /// The decoder contexts of a prefix of `length` real positions (no padding, no dropout).
    func prefixContext(memoryMask: Tensor, batch: Int, length: Int) -> BatchContext {
        let dtype = config.dtype
        let lengths = Array(repeating: length, count: batch)
        let decoderBase = OpContext(memoryMask: memoryMask,
                                    keyMask: Seq2SeqBatch.additiveMask(lengths: lengths, length: length, dtype: dtype),
                                    positionMask: Seq2SeqBatch.positionMask(lengths: lengths, length: length, dtype: dtype))
        return BatchContext(encoderBase: OpContext(), decoderBase: decoderBase, stepKey: 0, dropout: 0)
    }
}
