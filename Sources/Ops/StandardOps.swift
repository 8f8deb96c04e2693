import TensorCore

extension OpRegistry {
    /// The 14 candidate ops of DESIGN.md section 4, in the order their alpha entries take.
    public static var standard: OpRegistry {
        var registry = OpRegistry()
        for width in [3, 5, 7, 11] {
            registry.register("conv\(width)") { spec, rng in ConvolutionOp(spec, width: width, rng: &rng) }
        }
        for width in [3, 7, 11, 15] {
            registry.register("dynconv\(width)") { spec, rng in DynamicConvolutionOp(spec, width: width, rng: &rng) }
        }
        registry.register("self_attn") { spec, rng in MultiHeadAttention(spec, cross: false, rng: &rng) }
        registry.register("cross_attn", decoderOnly: true) { spec, rng in MultiHeadAttention(spec, cross: true, rng: &rng) }
        registry.register("glu") { spec, rng in GatedLinearUnit(spec, rng: &rng) }
        registry.register("ffn") { spec, rng in FeedForward(spec, rng: &rng) }
        registry.register("zero", wrapped: false) { _, _ in ZeroOp() }
        registry.register("identity", wrapped: false) { _, _ in IdentityOp() }
        return registry
    }
}
