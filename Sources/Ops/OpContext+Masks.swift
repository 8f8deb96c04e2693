import TensorCore

/// The padding masks of a batch of ragged sentences, built here (not in the model) so the
/// model's contexts and the padded op test vectors come from the same two functions.
extension OpContext {
    /// Additive mask [B, 1, 1, L] over one side's positions: 0 for tokens, -inf for padding.
    public static func additiveMask(lengths: [Int], length: Int, dtype: DType) -> Tensor {
        let values = lengths.flatMap { l in (0..<length).map { $0 < l ? 0.0 : -Double.infinity } }
        return Tensor(shape: [lengths.count, 1, 1, length], scalars: values, dtype: dtype)
    }

    /// [B, L, 1]: 1 at tokens, 0 at padding.
    public static func positionMask(lengths: [Int], length: Int, dtype: DType) -> Tensor {
        let values = lengths.flatMap { l in (0..<length).map { $0 < l ? 1.0 : 0 } }
        return Tensor(shape: [lengths.count, length, 1], scalars: values, dtype: dtype)
    }
}
