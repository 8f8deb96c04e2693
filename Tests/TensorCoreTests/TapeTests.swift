import Testing
import TensorCore

@Suite struct TapeTests {
    @Test func leavesKeepGradientsIntermediatesDoNot() {
        var rng = RandomState(seed: 3)
        let a = Tensor(randomNormal: [2, 3], dtype: .float64, rng: &rng)
        a.requiresGrad = true
        let b = Tensor(randomNormal: [2, 3], dtype: .float64, rng: &rng)
        let tape = Tape()
        let (h, y) = tape.recording { () -> (Tensor, Tensor) in
            let h = mul(a, b)
            return (h, sum(add(h, h)))
        }
        #expect(tape.count == 3)
        #expect(!b.requiresGrad && h.requiresGrad && !h.isLeaf)
        tape.backward(y)
        #expect(h.grad == nil, "intermediate gradient released")
        #expect(b.grad == nil, "no gradient for a constant")
        // d/da sum(2 a b) = 2 b
        #expect(a.grad!.scalars == b.scalars.map { 2 * $0 })
    }

    @Test func nothingIsRecordedWithoutATapeOrWithoutGradients() {
        let a = Tensor(repeating: 1, shape: [2], dtype: .float32)
        a.requiresGrad = true
        let y = add(a, a)
        #expect(!y.requiresGrad, "no tape: no recording")
        let tape = Tape()
        let z = tape.recording { add(Tensor(zeros: [2], dtype: .float32), Tensor(zeros: [2], dtype: .float32)) }
        #expect(tape.count == 0 && !z.requiresGrad)
    }

    @Test func gradientsAccumulateOverUses() {
        let a = Tensor(shape: [3], scalars: [1.0, 2, 3], dtype: .float64, requiresGrad: true)
        let tape = Tape()
        let y = tape.recording { sum(mul(a, add(a, a))) }   // sum 2a² -> 4a
        tape.backward(y)
        #expect(a.grad!.scalars == [4, 8, 12])
    }

    @Test func customOperationWithAWrongBackwardIsRecorded() {
        let a = Tensor(shape: [2], scalars: [1.0, 2], dtype: .float64, requiresGrad: true)
        let tape = Tape()
        let y = tape.recording { () -> Tensor in
            let out = scale(a.detached(), 3)
            recordOperation(outputs: [out], inputs: [a]) { grads in [grads[0]] }   // claims dy/da = 1
            return sum(out)
        }
        tape.backward(y)
        #expect(a.grad!.scalars == [1, 1], "the custom backward ran")
    }
}
