import TensorCore
import Testing
import Translation

/// Two processes simulated in one: the other process's values are a fixed multiple of this
/// one's, so every sum is known in closed form.
private final class MirroredProcess: Communicator {
    let factor: Double
    var calls: [Int] = []
    init(otherTimes factor: Double) { self.factor = factor }
    var rank: Int { 0 }
    var size: Int { 2 }
    func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        calls.append(values.count)
        for i in values.indices { values[i] *= 1 + factor }
    }
    func gather(_ values: [Double]) -> [[Double]] { [values, values.map { $0 * factor }] }
    func barrier() {}
}

@Suite struct GradientReductionTests {
    func parameters() -> [(name: String, tensor: Tensor)] {
        let shapes = [[3, 5], [7], [4, 4], [1]]
        return shapes.enumerated().map { i, shape in
            let t = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Double($0 + 1) * 0.5 }, dtype: .float32)
            t.grad = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Double(i + 1) * Double($0 % 5) - 1.25 }, dtype: .float32)
            return ("p\(i)", t)
        }
    }

    @Test(arguments: [8, 40, 4 << 20])
    func everyGradientIsTheWeightedSumWhateverTheBucketSize(bucketBytes: Int) {
        let params = parameters()
        let expected = params.map { $0.tensor.grad!.scalars.map { $0 * 0.25 * 3 } }
        let process = MirroredProcess(otherTimes: 2)
        let reduction = GradientReduction(process, bucketBytes: bucketBytes)
        let loss = reduction.reduce(params, loss: 4, weight: 0.25)
        #expect(loss == 3)
        for (p, want) in zip(params, expected) { #expect(p.tensor.grad!.scalars == want, "\(p.name)") }
        // The header (loss and which gradients exist) then ceil(elements / bucket) sums.
        let elements = params.map(\.tensor.count).reduce(0, +), perBucket = max(bucketBytes / 8, 1)
        #expect(process.calls.count == 1 + (elements + perBucket - 1) / perBucket)
        #expect(process.calls.dropFirst().reduce(0, +) == elements)
    }

    @Test func aGradientNoProcessHasStaysMissingAndASharedOneIsSummedOnce() {
        let params = parameters()
        params[1].tensor.grad = nil
        // Two parameters handed the same gradient tensor by a backward.
        let shared = Tensor(shape: [4, 4], scalars: (0..<16).map(Double.init), dtype: .float32)
        let twin = Tensor(shape: [4, 4], scalars: Array(repeating: 0, count: 16), dtype: .float32)
        params[2].tensor.grad = shared
        twin.grad = shared
        _ = GradientReduction(MirroredProcess(otherTimes: 1), bucketBytes: 24).reduce(params + [("twin", twin)], loss: 1, weight: 1)
        #expect(params[1].tensor.grad == nil)
        #expect(params[2].tensor.grad!.scalars == (0..<16).map { 2 * Double($0) })
        #expect(twin.grad!.scalars == (0..<16).map { 2 * Double($0) })
    }

    @Test func oneProcessLeavesEverythingUntouched() {
        let params = parameters()
        let before = params.map { $0.tensor.grad!.scalars }
        let loss = GradientReduction(SingleProcess()).reduce(params, loss: 2.5, weight: 0.3)
        #expect(loss == 2.5)
        #expect(params.map { $0.tensor.grad!.scalars } == before)
    }
}
