/// Whether every value of `tensors` is finite: what a run checks after each step, so that a
/// divergence stops it at the step where it happened, before a checkpoint stores NaN weights.
public func allFinite(_ tensors: [Tensor]) -> Bool {
    tensors.allSatisfy { t in
        guard t.holdsValues else { return true }
        switch t.dtype {
        case .float32:
            let p = t.pointer(Float.self)
            // x * 0 is 0 for every finite x and NaN for NaN and ±infinity, so the sum is 0
            // exactly when all values are finite: one pass, no branch per element.
            var sum: Float = 0
            for i in 0..<t.count { sum += p[i] * 0 }
            return sum == 0
        case .float64:
            let p = t.pointer(Double.self)
            var sum = 0.0
            for i in 0..<t.count { sum += p[i] * 0 }
            return sum == 0
        }
    }
}
