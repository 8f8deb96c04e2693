import Foundation
import TensorCore

/// Factorised token embedding (vocab x e, then e x d) plus fixed sinusoidal positions.
/// Its output is the first reversible layer's input; in reconstruction mode that input is
/// rebuilt, so backward recomputes this cheap block from the token ids alone.
public final class FactorisedEmbedding {
    public let table: Tensor        // [V, e]
    public let projection: Tensor   // [d, e]

    init(vocabulary: Int, embeddingWidth e: Int, modelWidth d: Int, dtype: DType, rng: inout RandomState) {
        table = .parameter(normal: [vocabulary, e], std: 1 / Double(e).squareRoot(), dtype: dtype, rng: &rng)
        projection = .parameter(xavier: [d, e], fanIn: e, fanOut: d, dtype: dtype, rng: &rng)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("embedding.weight", table), ("projection.weight", projection)]
    }

    /// ids [B, T] -> [B, T, d]: sqrt(e) E[ids] Pᵀ (scaled as fairseq scales embeddings), plus
    /// the positions from `firstPosition` on (an incremental decoder embeds one at a time), then dropout.
    func callAsFunction(_ ids: [Int32], batch: Int, length: Int, firstPosition: Int = 0, dropoutRate: Double, key: UInt64) -> Tensor {
        let e = table.shape[1]
        let tokens = scale(embedding(table, ids: ids, shape: [batch, length]), Double(e).squareRoot())
        let projected = linear(tokens, weight: projection)
        let positioned = add(projected, sinusoidalPositions(length: length, width: projection.shape[0], dtype: table.dtype, start: firstPosition))
        return dropoutRate > 0 ? dropout(positioned, rate: dropoutRate, key: key) : positioned
    }
}

/// The Transformer's fixed position signal [T, d] of positions start..<start+T: sin on
/// even features, cos on odd.
public func sinusoidalPositions(length: Int, width: Int, dtype: DType, start: Int = 0) -> Tensor {
    // A dry run needs the allocation, not the values (the table was 4% of its time).
    if Runtime.current.isShapeOnly { return Tensor(uninitialized: [length, width], dtype: dtype) }
    var values = [Double](repeating: 0, count: length * width)
    for t in 0..<length {
        for i in stride(from: 0, to: width, by: 2) {
            let angle = Double(start + t) / pow(10000, Double(i) / Double(width))
            values[t * width + i] = sin(angle)
            if i + 1 < width { values[t * width + i + 1] = cos(angle) }
        }
    }
    return Tensor(shape: [length, width], scalars: values, dtype: dtype)
}
