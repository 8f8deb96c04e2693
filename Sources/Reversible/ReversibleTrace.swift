import TensorCore

/// Observes the input splits of every layer: as stored by the forward pass, and as
/// rebuilt by the reconstruction. The verifier plugs in here to compare the two; the
/// model core only calls it.
public protocol ReversibleTrace: AnyObject {
    /// `stack` is "encoder" or "decoder"; `layer` is 1-based; `splits` are X_1..X_n.
    func layerInput(stack: String, layer: Int, splits: [Tensor], reconstructed: Bool)
}
