import Foundation
import Testing
import TensorCore

/// Tallies what the allocator reports: live and peak bytes by category, every event.
final class CountingObserver: AllocationObserver {
    var live: [MemoryCategory: Int] = [:]
    var liveTotal = 0
    var peakTotal = 0
    var allocations: [AllocationEvent] = []
    var frees = 0
    var unmatchedFrees = 0
    private var open = Set<UInt64>()

    func allocated(_ event: AllocationEvent) {
        allocations.append(event)
        open.insert(event.id)
        live[event.category, default: 0] += event.bytes
        liveTotal += event.bytes
        peakTotal = max(peakTotal, liveTotal)
    }

    func freed(_ event: AllocationEvent, phase: StepPhase) {
        guard open.remove(event.id) != nil else { unmatchedFrees += 1; return }
        frees += 1
        live[event.category, default: 0] -= event.bytes
        liveTotal -= event.bytes
    }
}

/// A two-layer network, forward and backward, everything released at the end.
private func trainingStep(dtype: DType) -> (loss: Double, gradNorms: [Double]) {
    var rng = RandomState(seed: 7)
    let runtime = Runtime.current
    let (w1, b1, w2) = runtime.withCategory(.parameter) {
        (Tensor(randomNormal: [16, 8], std: 0.3, dtype: dtype, rng: &rng),
         Tensor(zeros: [16], dtype: dtype),
         Tensor(randomNormal: [4, 16], std: 0.3, dtype: dtype, rng: &rng))
    }
    for p in [w1, b1, w2] { p.requiresGrad = true }
    let x = Tensor(randomNormal: [3, 5, 8], dtype: dtype, rng: &rng)
    let tape = Tape()
    let loss = tape.recording {
        runtime.withScope("encoder") {
            let h = runtime.withScope("layer1") { linear(x, weight: w1, bias: b1) }
            let g = runtime.withScope("layer2") { linear(mul(h, h), weight: w2) }
            return sum(g)
        }
    }
    tape.backward(loss)
    #expect(tape.count == 0, "backward clears the tape")
    return (loss.scalarValue, [w1, b1, w2].map { $0.grad!.scalars.reduce(0) { $0 + $1 * $1 } })
}

@Suite struct AllocatorHookTests {
    @Test func liveBytesReturnToZeroAfterForwardAndBackward() {
        let observer = CountingObserver()
        Runtime.current.attach(observer)
        defer { Runtime.current.detach(observer) }
        let result = trainingStep(dtype: .float32)
        #expect(result.loss.isFinite)
        #expect(observer.allocations.count > 10)
        #expect(observer.peakTotal > 0)
        #expect(observer.liveTotal == 0, "live bytes after release: \(observer.live)")
        #expect(observer.frees == observer.allocations.count)
        #expect(observer.unmatchedFrees == 0)
        for category in MemoryCategory.allCases { #expect(observer.live[category, default: 0] == 0) }
    }

    @Test func categoriesAndScopePathsAreRecorded() {
        let observer = CountingObserver()
        Runtime.current.attach(observer)
        defer { Runtime.current.detach(observer) }
        _ = trainingStep(dtype: .float64)
        let events = observer.allocations
        // Parameters: made under withCategory(.parameter), outside any scope.
        let parameters = events.filter { $0.category == .parameter }
        #expect(parameters.count == 3)
        #expect(parameters.allSatisfy { $0.scope.path == "" && $0.dtype == .float64 })
        #expect(parameters.map(\.bytes).sorted() == [16 * 8, 4 * 16 * 8, 16 * 8 * 8], "b1, w2, w1 in Float64")
        // Forward outputs of each layer are activations in that layer's scope.
        let layer1 = events.filter { $0.scope.path == "encoder.layer1" && $0.category == .activation }
        #expect(layer1.contains { $0.bytes == 3 * 5 * 16 * 8 }, "linear output [3,5,16] in encoder.layer1")
        let layer2 = events.filter { $0.scope.path == "encoder.layer2" && $0.category == .activation }
        #expect(layer2.contains { $0.bytes == 3 * 5 * 4 * 8 }, "linear output [3,5,4] in encoder.layer2")
        #expect(events.contains { $0.scope.path == "encoder" && $0.category == .activation }, "sum in encoder")
        // Backward allocations are gradients attributed to the scope of their forward op.
        let grads = events.filter { $0.category == .gradient }
        #expect(grads.contains { $0.scope.path == "encoder.layer1" && $0.bytes == 16 * 8 * 8 }, "dW1 in encoder.layer1")
        #expect(grads.contains { $0.scope.path == "encoder.layer2" && $0.bytes == 4 * 16 * 8 }, "dW2 in encoder.layer2")
        #expect(!events.contains { $0.scope.path.hasPrefix("encoder.encoder") }, "scopes do not leak into each other")
        #expect(events.map(\.id) == events.map(\.id).sorted(), "ids increase in allocation order")
    }

    @Test func stacksAreCapturedAndDemangledOnlyWhenEnabled() {
        let observer = CountingObserver()
        let runtime = Runtime.current
        runtime.attach(observer)
        defer { runtime.detach(observer); runtime.captureStacks = false }
        _ = allocateInNamedFunction()
        #expect(observer.allocations.last?.stack == nil)
        runtime.captureStacks = true
        _ = allocateInNamedFunction()
        let stack = try! #require(observer.allocations.last?.stack)
        #expect(!stack.addresses.isEmpty)
        let symbols = stack.symbols
        #expect(symbols.contains { $0.contains("allocateInNamedFunction") }, "\(symbols.prefix(6))")
        #expect(!symbols.contains { $0.hasPrefix("$s") }, "Swift names are demangled: \(symbols.prefix(6))")
    }

    @Test func observerAttachedLaterIgnoresEarlierBuffers() {
        var early: Tensor? = Tensor(zeros: [100], dtype: .float32)
        let observer = CountingObserver()
        Runtime.current.attach(observer)
        defer { Runtime.current.detach(observer) }
        early = nil
        #expect(early == nil)
        #expect(observer.unmatchedFrees == 0 && observer.frees == 0, "a buffer allocated unobserved reports no free")
    }

    @Test func observersArePerThread() {
        let observer = CountingObserver()
        Runtime.current.attach(observer)
        defer { Runtime.current.detach(observer) }
        let done = DispatchSemaphore(value: 0)
        Thread {
            _ = Tensor(zeros: [1000], dtype: .float64)
            done.signal()
        }.start()
        done.wait()
        #expect(observer.allocations.isEmpty, "another thread's allocation is not reported here")
        _ = Tensor(zeros: [10], dtype: .float64)
        #expect(observer.allocations.count == 1)
    }

    @Test func buffersAreSixtyFourByteAligned() {
        for n in [1, 3, 17, 1000] {
            let t = Tensor(zeros: [n], dtype: .float32)
            #expect(UInt(bitPattern: t.buffer.raw) % 64 == 0)
        }
    }
}

@inline(never)
func allocateInNamedFunction() -> Tensor {
    Tensor(zeros: [64], dtype: .float32)
}
