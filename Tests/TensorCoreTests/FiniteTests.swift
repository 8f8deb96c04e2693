import TensorCore
import Testing

/// The divergence check a run makes after every step.
@Suite struct FiniteTests {
    @Test func oneNonFiniteValueInAnyTensorIsSeen() {
        for dtype in [DType.float32, .float64] {
            let a = Tensor(shape: [3], scalars: [1, -2, 3e30], dtype: dtype), b = Tensor(shape: [2, 2], scalars: [0, -0.0, 5, 1e-30], dtype: dtype)
            #expect(allFinite([a, b]))
            for bad in [Double.nan, .infinity, -.infinity] {
                let c = Tensor(shape: [4], scalars: [1, 2, bad, 4], dtype: dtype)
                #expect(!allFinite([a, c, b]), "\(dtype) \(bad)")
            }
        }
        #expect(allFinite([]))
    }
}
