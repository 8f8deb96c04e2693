/// A Wengert list: operations append an entry as they run, `backward` walks the entries
/// in reverse. Chosen over per-layer hand-written backward because reconstruction needs
/// to re-run any G_k under a short-lived local tape and backprop through it: with a tape,
/// a candidate op written once in forward primitives gets a correct backward for free,
/// and each primitive's backward stands beside its forward (see `record`).
///
/// The tape holds the tensors backward needs (captured by the entries' closures); they are
/// freed when the tape is, which is exactly the memory full-storage backprop pays for.
public final class Tape {
    struct Entry {
        let inputs: [Tensor]
        let outputs: Outputs
        /// Scope of the forward operation; backward allocations are attributed to it.
        let scope: Scope
    }

    /// The outputs and the closure giving the inputs' gradients from theirs (nil: zero or
    /// not needed). Nearly every primitive has one output: it keeps no array of outputs
    /// and none of their gradients, and its closure is called directly, three heap objects
    /// fewer per operation (a shape-only dry run is mostly such bookkeeping).
    enum Outputs {
        case one(Tensor, (Tensor) -> [Tensor?])
        case many([Tensor], ([Tensor?]) -> [Tensor?])
    }

    private(set) var entries: [Entry] = []

    public init() {}

    /// Number of recorded operations.
    public var count: Int { entries.count }

    /// Runs `body` with operations recorded on this tape.
    public func recording<R>(_ body: () throws -> R) rethrows -> R {
        try Runtime.current.withTape(self, body)
    }

    func append(_ entry: Entry) { entries.append(entry) }

    /// Backpropagates from `root` (seeded with ones, or `seed`) and clears the tape.
    public func backward(_ root: Tensor, seed: Tensor? = nil) {
        backward([root], seeds: [seed ?? Tensor(repeating: 1, shape: root.shape, dtype: root.dtype, category: .gradient)])
    }

    /// Backpropagates from several roots with given output gradients and clears the tape.
    /// Leaves keep their accumulated `grad`; intermediate gradients are released as soon
    /// as the entry that produced the tensor has been processed.
    public func backward(_ roots: [Tensor], seeds: [Tensor]) {
        precondition(roots.count == seeds.count, "one seed per root")
        let runtime = Runtime.current
        runtime.withTape(nil) {
            runtime.withCategory(.gradient) {
                for (root, seed) in zip(roots, seeds) where root.requiresGrad {
                    precondition(root.shape == seed.shape, "seed shape \(seed.shape) for root \(root.shape)")
                    root.accumulateGrad(seed)
                }
                while let entry = entries.popLast() {
                    switch entry.outputs {
                    case .one(let output, let backward):
                        guard let grad = output.grad else { continue }
                        accumulate(runtime.withScope(entry.scope) { backward(grad) }, into: entry.inputs)
                        if !output.isLeaf { output.grad = nil }
                    case .many(let outputs, let backward):
                        let outputGrads = outputs.map(\.grad)
                        if outputGrads.allSatisfy({ $0 == nil }) { continue }
                        accumulate(runtime.withScope(entry.scope) { backward(outputGrads) }, into: entry.inputs)
                        for output in outputs where !output.isLeaf { output.grad = nil }
                    }
                }
            }
        }
    }

    private func accumulate(_ grads: [Tensor?], into inputs: [Tensor]) {
        for (input, grad) in zip(inputs, grads) where input.requiresGrad {
            if let grad { input.accumulateGrad(grad) }
        }
    }

    /// Drops every entry without backpropagating (frees what the tape held).
    public func reset() { entries.removeAll() }
}

extension Tensor {
    /// Adds `g` into `grad`, out of place: a backward closure may hand the same tensor to
    /// several inputs (addition passes its gradient through), so nothing is mutated.
    func accumulateGrad(_ g: Tensor) {
        precondition(g.shape == shape, "gradient of shape \(g.shape) for tensor of shape \(shape)")
        if let existing = grad {
            grad = addSameShape(existing, g, category: .gradient)
        } else {
            grad = g
        }
    }
}

extension Runtime {
    /// Re-enters a scope node captured earlier (backward runs in its forward's scope).
    func withScope<R>(_ node: Scope, _ body: () throws -> R) rethrows -> R {
        let saved = scope
        scope = node
        defer { scope = saved }
        return try body()
    }
}

/// Records an operation with outputs `outputs` computed from `inputs` if a tape is
/// recording and any input needs a gradient. Every primitive calls this right after its
/// forward kernel, with its backward as the closure.
@inline(__always)
func record(_ outputs: [Tensor], inputs: [Tensor], backward: @escaping ([Tensor?]) -> [Tensor?]) {
    record(outputs, .many(outputs, backward), inputs: inputs)
}

/// Single-output form of `record`: the closure gets the output's gradient.
@inline(__always)
func record(_ output: Tensor, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
    record(CollectionOfOne(output), .one(output, backward), inputs: inputs)
}

/// Marks `outputs` as computed and appends `entry` (built only when something is recorded:
/// outside a tape, or with no input needing a gradient, a primitive allocates nothing here).
@inline(__always)
private func record(_ outputs: some Collection<Tensor>, _ entry: @autoclosure () -> Tape.Outputs, inputs: [Tensor]) {
    let runtime = Runtime.current
    guard let tape = runtime.tape, inputs.contains(where: \.requiresGrad) else { return }
    for output in outputs {
        output.requiresGrad = true
        output.isLeaf = false
    }
    tape.append(Tape.Entry(inputs: inputs, outputs: entry(), scope: runtime.scope))
}

/// Records an operation defined outside the core (a custom primitive with a hand-written
/// backward). The closure gets one gradient per output (nil where no gradient arrived)
/// and returns one per input (nil where none is needed).
public func recordOperation(
    outputs: [Tensor], inputs: [Tensor], backward: @escaping ([Tensor?]) -> [Tensor?]
) {
    record(outputs, inputs: inputs, backward: backward)
}
