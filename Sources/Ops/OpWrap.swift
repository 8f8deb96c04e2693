import TensorCore

/// How a parametric op o is used inside G_k. `postNorm` is DESIGN.md section 2's default,
/// LayerNorm(H + Dropout(o(H))): every G_k returns a normalised copy of its input plus the
/// op, so the coupling Y_k = X_k + G_k adds that copy to the stream at every layer.
/// `preNorm` is Dropout(o(LayerNorm(H))), the reversible Transformer of Kitaev et al.
/// (Reformer): with two splits and attention / FFN nodes, Y_1 = X_1 + Attn(LN(X_2)) and
/// Y_2 = X_2 + FFN(LN(Y_1)) are a pre-LN Transformer's residual blocks, coupled.
/// docs/DESIGN.md section 2 records why the choice exists and what it measured.
public enum OpWrap: String, Sendable, Codable, ListedCases {
    case postNorm = "post-norm", preNorm = "pre-norm"
}
