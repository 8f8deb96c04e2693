/// Deliberate faults, one per trap of DESIGN.md section 3, that the model can be built
/// with. They exist so that tests can prove the verifier catches each trap (mutation
/// testing); a normal model has none.
package struct InjectedFaults: OptionSet, Sendable, Hashable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }

    /// The inverse adds G_k instead of subtracting it.
    package static let signFlippedInverse = InjectedFaults(rawValue: 1 << 0)
    /// The recomputation uses softmax(alpha) from a detached copy: alpha gets no gradient.
    package static let alphaGradientDropped = InjectedFaults(rawValue: 1 << 1)
    /// The recomputation draws fresh dropout masks instead of replaying the forward's.
    package static let dropoutNotReplayed = InjectedFaults(rawValue: 1 << 2)
    /// Decoder self-attention lets position t see t+1.
    package static let causalMaskOffByOne = InjectedFaults(rawValue: 1 << 3)

    package static let named: [(String, InjectedFaults)] = [
        ("sign_flipped_inverse", .signFlippedInverse),
        ("alpha_gradient_dropped", .alphaGradientDropped),
        ("dropout_not_replayed", .dropoutNotReplayed),
        ("causal_mask_off_by_one", .causalMaskOffByOne),
    ]
}
