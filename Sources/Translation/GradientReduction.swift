import Foundation
import TensorCore

/// Sums the gradients of a data-parallel step over the processes: each process computed the
/// mean loss of its share of the global batch, so the global gradient is the sum of the
/// shares' gradients weighted by their token fractions (`BatchShare.weight`). Gradients
/// travel as Float64 in buckets of `bucketBytes` (one MPI_Allreduce per bucket, not per
/// tensor), and are rounded to the parameters' dtype once, after the sum. On one process
/// nothing is touched, so a single-process run computes exactly what it did before.
public final class GradientReduction {
    public let communicator: Communicator
    /// Float64 values per reduction call.
    public let bucketElements: Int
    /// Wall-clock seconds spent in the sums so far (waiting for the slowest process included).
    public private(set) var seconds = 0.0
    /// Bytes each process has sent into sums so far, and the number of calls.
    public private(set) var bytes = 0
    public private(set) var calls = 0
    /// The Float64 staging buffer, kept between steps (up to `bucketElements`, 4 MiB by default).
    private var staging: [Double] = []

    public init(_ communicator: Communicator, bucketBytes: Int = 4 << 20) {
        self.communicator = communicator
        bucketElements = max(bucketBytes / MemoryLayout<Double>.size, 1)
    }

    /// Replaces every parameter's gradient by the weighted sum over processes of theirs (a
    /// process without a gradient for it contributes zeros; a parameter none has a gradient
    /// for keeps none) and returns the weighted sum of `loss`: the global batch's loss.
    public func reduce(_ parameters: [(name: String, tensor: Tensor)], loss: Double, weight: Double) -> Double {
        guard communicator.size > 1 else { return loss }
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        // The loss and which parameters have a gradient anywhere, in one small sum.
        var header = [weight == 0 ? 0 : weight * loss] + parameters.map { $0.tensor.grad == nil ? 0.0 : 1.0 }
        sum(&header)
        let reduced = parameters.indices.filter { header[$0 + 1] > 0 }.map { parameters[$0].tensor }
        let capacity = min(bucketElements, reduced.reduce(0) { $0 + $1.count })
        // Taken out of `staging` (not copied: a second reference would make the first write copy 4 MiB).
        var bucket: [Double] = []
        swap(&bucket, &staging)
        if bucket.count < capacity { bucket = [Double](repeating: 0, count: capacity) }
        defer { staging = bucket }
        // Pieces of tensors in the bucket: (tensor, first element, count, offset in the bucket).
        var pieces: [(Tensor, Int, Int, Int)] = []
        var filled = 0
        func flush() {
            guard filled > 0 else { return }
            bucket.withUnsafeMutableBufferPointer { all in
                sum(UnsafeMutableBufferPointer(rebasing: all[0..<filled]))
                for (tensor, first, count, offset) in pieces { store(all.baseAddress! + offset, count, into: tensor.grad!, at: first) }
            }
            pieces.removeAll(keepingCapacity: true)
            filled = 0
        }
        // Sums are written back in place: before any is, a gradient buffer two parameters
        // share (a backward may hand the same tensor to both) is copied, or its second
        // reading would be a sum.
        var buffers = Set<ObjectIdentifier>()
        for tensor in reduced {
            if tensor.grad == nil { tensor.grad = Tensor(zeros: tensor.shape, dtype: tensor.dtype, category: .gradient) }
            if !buffers.insert(ObjectIdentifier(tensor.grad!.buffer)).inserted {
                tensor.grad = tensor.grad!.converted(to: tensor.dtype, category: .gradient)
                buffers.insert(ObjectIdentifier(tensor.grad!.buffer))
            }
        }
        for tensor in reduced {
            let gradient = tensor.grad!
            var first = 0
            while first < tensor.count {
                let count = min(tensor.count - first, capacity - filled)
                bucket.withUnsafeMutableBufferPointer { load(gradient, at: first, count, scaledBy: weight, into: $0.baseAddress! + filled) }
                pieces.append((tensor, first, count, filled))
                filled += count
                first += count
                if filled == capacity { flush() }
            }
        }
        flush()
        return header[0]
    }

    private func sum(_ values: inout [Double]) {
        values.withUnsafeMutableBufferPointer { sum($0) }
    }

    private func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        communicator.sum(values)
        bytes += values.count * MemoryLayout<Double>.size
        calls += 1
    }

    private func load(_ gradient: Tensor, at first: Int, _ count: Int, scaledBy weight: Double, into out: UnsafeMutablePointer<Double>) {
        guard gradient.holdsValues else { return }
        switch gradient.dtype {
        case .float32: let p = gradient.pointer(Float.self) + first; for i in 0..<count { out[i] = weight * Double(p[i]) }
        case .float64: let p = gradient.pointer(Double.self) + first; for i in 0..<count { out[i] = weight * p[i] }
        }
    }

    private func store(_ values: UnsafeMutablePointer<Double>, _ count: Int, into gradient: Tensor, at first: Int) {
        guard gradient.holdsValues else { return }
        switch gradient.dtype {
        case .float32: let p = gradient.pointer(Float.self) + first; for i in 0..<count { p[i] = Float(values[i]) }
        case .float64: let p = gradient.pointer(Double.self) + first; for i in 0..<count { p[i] = values[i] }
        }
    }
}
