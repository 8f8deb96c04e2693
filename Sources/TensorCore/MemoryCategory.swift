/// What a buffer holds. Every allocation carries one, so an observer can tell stored
/// activations (what reconstruction saves) from weights, gradients and optimiser state.
public enum MemoryCategory: String, Sendable, CaseIterable, Codable {
    /// Model weights and architecture weights (alpha).
    case parameter
    /// Every gradient: of parameters, and of activations while backward runs.
    case gradient
    /// Values computed in forward (and recomputed in reconstruction), kept for backward.
    case activation
    /// Optimiser moments.
    case optimizerState = "optimizer_state"
    /// Scratch a kernel needs only for the duration of one call (im2col columns, statistics).
    case workspace
}
