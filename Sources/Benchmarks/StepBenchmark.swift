import Profiler
import Reversible
import TensorCore
import Verifier

/// Training-step times of one model and synthetic batch, interleaved round by round so
/// every configuration sees the same machine load; one untimed warm-up round.
package enum StepBenchmark {
    package struct Setup {
        package let network: ReversibleTransformer
        package let batch: Seq2SeqBatch
        package var parameterCount: Int { network.parameters.map(\.tensor.count).reduce(0, +) }
    }

    package static func setup(_ config: ModelConfig, batch: Int, length: Int) throws -> Setup {
        Setup(network: try ReversibleTransformer(config),
              batch: SyntheticBatch.make(config: config, batchSize: batch, sourceLength: length, targetLength: length, seed: 3))
    }

    /// Step times per backprop mode (`revsearch bench step`): [mode][repeat].
    package static func modes(_ setup: Setup, modes: [BackpropMode], repeats: Int) -> [[Double]] {
        var times = Array(repeating: [Double](), count: modes.count)
        for round in 0...repeats {
            for (i, mode) in modes.enumerated() {
                setup.network.zeroGradients()
                let t = seconds { setup.network.trainingStep(setup.batch, mode: mode, dropoutKey: UInt64(round)) }
                if round > 0 { times[i].append(t) }
            }
        }
        return times
    }

    /// The observers `observers` compares: none, the profiler, the profiler capturing stacks.
    package static let observerConfigurations = ["no observer", "profiler", "profiler + call stacks"]

    /// Step times with each of `observerConfigurations` (`revsearch bench profiler`), and the
    /// allocations of a step.
    package static func observers(_ setup: Setup, mode: BackpropMode, repeats: Int) -> (times: [[Double]], allocations: Int) {
        let runtime = Runtime.current
        var times = Array(repeating: [Double](), count: observerConfigurations.count)
        var allocations = 0
        for round in 0...repeats {
            for i in observerConfigurations.indices {
                let profiler = i > 0 ? MemoryProfiler() : nil
                if let profiler { runtime.attach(profiler) }
                runtime.captureStacks = i == 2
                setup.network.zeroGradients()
                let t = seconds { setup.network.trainingStep(setup.batch, mode: mode, dropoutKey: UInt64(round)) }
                runtime.captureStacks = false
                if let profiler {
                    runtime.detach(profiler)
                    allocations = profiler.eventCount / 2
                }
                if round > 0 { times[i].append(t) }
            }
        }
        return (times, allocations)
    }

    /// A step's time and minor page faults with the caching allocator on and off
    /// (`revsearch bench step --cache`), interleaved round by round so both see the same
    /// machine load. Switching starts a new cache, so each round warms it with one untimed
    /// step first: the figures are a steady state's. [on, off][repeat].
    package static func caching(repeats: Int, step: () -> Void) -> (times: [[Double]], faults: [[Int]]) {
        let runtime = Runtime.current
        var times: [[Double]] = [[], []], faults: [[Int]] = [[], []]
        defer { runtime.cachesBuffers = true }
        for _ in 0..<repeats {
            for (i, caching) in [true, false].enumerated() {
                runtime.cachesBuffers = caching
                step()
                let before = minorPageFaults()
                times[i].append(seconds(step))
                faults[i].append(minorPageFaults() - before)
            }
        }
        return (times, faults)
    }
}
