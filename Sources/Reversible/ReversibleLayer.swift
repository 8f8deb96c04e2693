import Ops
import TensorCore

/// A multi-split reversible layer (DESIGN.md section 2). The input X [B, T, d] is split
/// along features into n parts; for k = 1..n, Y_k = X_k + G_k(Y_1..Y_{k-1}, X_{k+1}..X_n).
/// Every G_k argument is known when its inverse X_k = Y_k - G_k(...) runs, so the input
/// can be rebuilt from the output and need not be stored.
public final class ReversibleLayer {
    /// Scope name, e.g. "layer3"; splits are scoped "split1".."splitN" below it.
    public let name: String
    public let functions: [NodeFunction]
    public var splits: Int { functions.count }
    /// X_k from Y_k and G_k: Y_k - G_k. Injected faults replace these three at
    /// construction, so the backward itself has no fault branches.
    let inverse: (Tensor, Tensor) -> Tensor
    /// The dropout key a recomputation of G_k uses: the forward's own.
    let recomputationKey: (UInt64) -> UInt64
    /// The alpha a recomputation reads: the leaf itself, so alpha gets its gradient.
    let recomputationAlpha: (Tensor) -> Tensor

    public convenience init(name: String, functions: [NodeFunction]) {
        self.init(name: name, functions: functions, faults: [])
    }

    package init(name: String, functions: [NodeFunction], faults: InjectedFaults) {
        precondition(functions.count >= 2, "a reversible layer needs at least 2 splits")
        self.name = name
        self.functions = functions
        let subtract: (Tensor, Tensor) -> Tensor = sub, added: (Tensor, Tensor) -> Tensor = add
        inverse = faults.contains(.signFlippedInverse) ? added : subtract
        let replayed: (UInt64) -> UInt64 = { $0 }, fresh: (UInt64) -> UInt64 = { RandomState.mix($0 ^ 0x5eed) }
        recomputationKey = faults.contains(.dropoutNotReplayed) ? fresh : replayed
        let leaf: (Tensor) -> Tensor = { $0 }, detached: (Tensor) -> Tensor = { $0.detached() }
        recomputationAlpha = faults.contains(.alphaGradientDropped) ? detached : leaf
    }

    /// The arguments of G_k (0-based k): outputs already computed, inputs not yet used.
    static func arguments(_ k: Int, ys: [Tensor], xs: [Tensor]) -> [Tensor] {
        Array(ys[0..<k]) + Array(xs[(k + 1)...])
    }

    /// Y = F(X), recorded on the current tape (if any).
    public func forward(_ x: Tensor, _ contexts: [OpContext]) -> Tensor {
        coupled(x) { k, arguments in functions[k](arguments, contexts[k]) }
    }

    /// One step of incremental decoding: x [B, 1, d] is the newest position; `caches`
    /// holds one cache per op of each split (split k's ops at `caches[k]`).
    public func decodeStep(_ x: Tensor, _ contexts: [OpContext], caches: inout [[DecodingCache]]) -> Tensor {
        coupled(x) { k, arguments in functions[k].decodeStep(arguments, contexts[k], caches: &caches[k]) }
    }

    /// Y_k = X_k + g(k, G_k's arguments) for k = 1..n, each under its split's scope.
    func coupled(_ x: Tensor, _ g: (Int, [Tensor]) -> Tensor) -> Tensor {
        let xs = split(x, parts: splits)
        var ys: [Tensor] = []
        for k in 0..<splits {
            let gk = withScope("split\(k + 1)") { g(k, Self.arguments(k, ys: ys, xs: xs)) }
            ys.append(add(xs[k], gk))
        }
        return concat(ys)
    }

    /// The gradients the inverse pass leaves behind: dX, and the reconstructed X.
    public struct BackwardResult {
        public let input: Tensor
        public let inputGradient: Tensor
        /// X_1..X_n as reconstructed (or as stored, in hybrid mode).
        public let inputSplits: [Tensor]
    }

    /// Backpropagation with reconstruction (DESIGN.md section 3): from the output Y and
    /// its gradient dY, rebuilds X and returns dX, accumulating parameter and alpha
    /// gradients (and gradients of tensors the G_k read from outside, such as the encoder
    /// output) into their `grad`. Each G_k is recomputed under its own short tape, which
    /// is freed before the next, so only one G_k's activations are alive at a time.
    /// `storedInput`, when given (hybrid mode), replaces the reconstruction.
    public func backward(output y: Tensor, gradient dy: Tensor, _ contexts: [OpContext], storedInput: Tensor? = nil) -> BackwardResult {
        let runtime = Runtime.current
        return runtime.withTape(nil) {
            let ys = split(y, parts: splits)
            let dys = split(dy, parts: splits)
            var xs: [Tensor?] = storedInput.map { split($0, parts: splits) } ?? Array(repeating: nil, count: splits)
            var accumulatedY: [Tensor?] = Array(repeating: nil, count: splits)
            var accumulatedX: [Tensor?] = Array(repeating: nil, count: splits)
            var totals: [Tensor] = []
            for k in stride(from: splits - 1, through: 0, by: -1) {
                let total = accumulatedY[k].map { add($0, dys[k]) } ?? dys[k]
                totals.insert(total, at: 0)
                // Fresh leaves for this recomputation: their gradients are G_k's alone.
                let arguments = Array(ys[0..<k]) + xs[(k + 1)...].map { $0! }   // X_>k are rebuilt by now
                let leaves = arguments.map { $0.detached(requiresGrad: true) }
                let context = contexts[k].with(dropoutKey: recomputationKey(contexts[k].dropoutKey))
                let tape = Tape()
                let g = withScope("split\(k + 1)") {
                    tape.recording { functions[k](leaves, context, alpha: recomputationAlpha) }
                }
                withScope("split\(k + 1)") { tape.backward([g], seeds: [total]) }
                for (slot, leaf) in leaves.enumerated() {
                    guard let grad = leaf.grad else { continue }
                    let j = slot < k ? slot : slot + 1
                    if j < k {
                        accumulatedY[j] = accumulatedY[j].map { add($0, grad) } ?? grad
                    } else {
                        accumulatedX[j] = accumulatedX[j].map { add($0, grad) } ?? grad
                    }
                }
                if xs[k] == nil {
                    xs[k] = inverse(ys[k], g.detached())
                }
            }
            let dxs = (0..<splits).map { k in accumulatedX[k].map { add($0, totals[k]) } ?? totals[k] }
            let inputSplits = xs.map { $0! }
            return BackwardResult(input: storedInput ?? concat(inputSplits), inputGradient: concat(dxs), inputSplits: inputSplits)
        }
    }

    /// Named parameters: `split<k>.<op>.<param>`.
    public var parameters: [(name: String, tensor: Tensor)] {
        functions.enumerated().flatMap { k, f in
            f.parameters.map { (name: "split\(k + 1).\($0.name)", tensor: $0.tensor) }
        }
    }
}
