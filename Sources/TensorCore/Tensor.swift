/// A dense, row-major tensor of Float or Double whose memory comes from the observable
/// allocator. A class, not a value: autodiff needs identity (a gradient belongs to one
/// tensor) and the tape keeps exactly the tensors backward needs, no copies.
///
/// Tensors are immutable once an operation has produced them; the only in-place writes
/// are optimiser updates of parameters and kernels filling their own fresh outputs.
public final class Tensor {
    public let shape: [Int]
    public let dtype: DType
    public let buffer: Buffer
    /// Whether gradients flow to (or through) this tensor.
    public var requiresGrad: Bool
    /// Accumulated gradient after `Tape.backward`: kept for leaves (parameters, inputs
    /// marked `requiresGrad`), released for intermediates once used.
    public var grad: Tensor?
    /// False for tensors produced by a recorded operation.
    public internal(set) var isLeaf = true

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// False for a tensor of a shape-only dry run: kernels skip it, reads give zeros.
    public var holdsValues: Bool { buffer.holdsValues }
    public var rank: Int { shape.count }

    init(shape: [Int], dtype: DType, buffer: Buffer, requiresGrad: Bool = false) {
        self.shape = shape
        self.dtype = dtype
        self.buffer = buffer
        self.requiresGrad = requiresGrad
    }

    /// Uninitialised memory; kernels fill it. `category` defaults to the runtime's current one.
    public convenience init(uninitialized shape: [Int], dtype: DType, category: MemoryCategory? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        let buffer = Runtime.current.allocate(bytes: count * dtype.size, dtype: dtype, category: category)
        self.init(shape: shape, dtype: dtype, buffer: buffer)
    }

    /// A tensor of zeros.
    public convenience init(zeros shape: [Int], dtype: DType, category: MemoryCategory? = nil) {
        self.init(uninitialized: shape, dtype: dtype, category: category)
        if holdsValues { buffer.raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * dtype.size) }
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Double, shape: [Int], dtype: DType, category: MemoryCategory? = nil) {
        self.init(uninitialized: shape, dtype: dtype, category: category)
        guard holdsValues else { return }
        switch dtype {
        case .float32: pointer(Float.self).update(repeating: Float(value), count: count)
        case .float64: pointer(Double.self).update(repeating: value, count: count)
        }
    }

    /// A tensor holding `scalars` (converted to `dtype`), row-major.
    public convenience init<S: BinaryFloatingPoint>(
        shape: [Int], scalars: [S], dtype: DType, category: MemoryCategory? = nil, requiresGrad: Bool = false
    ) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) scalars")
        self.init(uninitialized: shape, dtype: dtype, category: category)
        self.requiresGrad = requiresGrad
        guard holdsValues else { return }
        switch dtype {
        case .float32:
            let p = pointer(Float.self)
            for i in 0..<scalars.count { p[i] = Float(scalars[i]) }
        case .float64:
            let p = pointer(Double.self)
            for i in 0..<scalars.count { p[i] = Double(scalars[i]) }
        }
    }

    /// Overwrites every element with `values` (row-major, converted to this dtype): weights
    /// copied between models of two dtypes, perturbed weights restored.
    public func assign(_ values: [Double]) {
        precondition(values.count == count, "assigning \(values.count) values to a tensor of shape \(shape)")
        guard holdsValues else { return }
        switch dtype {
        case .float32:
            let p = pointer(Float.self)
            for i in values.indices { p[i] = Float(values[i]) }
        case .float64:
            let p = pointer(Double.self)
            for i in values.indices { p[i] = values[i] }
        }
    }

    /// A rank-0 tensor.
    public convenience init(scalar: Double, dtype: DType) {
        self.init(shape: [], scalars: [scalar], dtype: dtype)
    }

    /// Typed pointer to the elements; `S` must match `dtype`.
    @inlinable
    public func pointer<S: TensorScalar>(_: S.Type) -> UnsafeMutablePointer<S> {
        precondition(S.dtype == dtype, "tensor is \(dtype), accessed as \(S.dtype)")
        return buffer.raw.assumingMemoryBound(to: S.self)
    }

    /// The elements as Double, row-major (a copy; for tests, checks and I/O).
    public var scalars: [Double] {
        guard holdsValues else { return [Double](repeating: 0, count: count) }
        switch dtype {
        case .float32: return UnsafeBufferPointer(start: pointer(Float.self), count: count).map(Double.init)
        case .float64: return Array(UnsafeBufferPointer(start: pointer(Double.self), count: count))
        }
    }

    /// The single element of a one-element tensor.
    public var scalarValue: Double {
        precondition(count == 1, "scalarValue of a tensor of shape \(shape)")
        return scalars[0]
    }

    /// A tensor sharing this one's memory with no history and no gradient: the cut
    /// point where reconstruction starts a local graph.
    public func detached(requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, dtype: dtype, buffer: buffer, requiresGrad: requiresGrad)
    }

    /// A copy in `dtype`, with no history.
    public func converted(to dtype: DType, category: MemoryCategory? = nil) -> Tensor {
        if dtype == self.dtype {
            let copy = Tensor(uninitialized: shape, dtype: dtype, category: category)
            if copy.holdsValues && holdsValues { copy.buffer.raw.copyMemory(from: buffer.raw, byteCount: count * dtype.size) }
            return copy
        }
        return Tensor(shape: shape, scalars: scalars, dtype: dtype, category: category)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(dtype), \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
