import Foundation
import Profiler
import Reversible
import TensorCore
import Testing
import Verifier

@Suite struct MemoryProfilerTests {
    @Test func layerNamesAreTheFirstTwoScopeComponents() {
        #expect(MemoryProfiler.layerName(ofPath: "encoder.layer3.split1.conv5") == "encoder.layer3")
        #expect(MemoryProfiler.layerName(ofPath: "decoder.embedding") == "decoder.embedding")
        #expect(MemoryProfiler.layerName(ofPath: "encoder") == "encoder")
        #expect(MemoryProfiler.layerName(ofPath: "") == "(no scope)")
    }

    @Test func liveAndPeakBytesByCategoryAndLayer() {
        let profiler = MemoryProfiler()
        let runtime = Runtime.current
        runtime.attach(profiler)
        defer { runtime.detach(profiler) }
        do {
            let a = runtime.withScope("encoder") { runtime.withScope("layer1") { Tensor(zeros: [100], dtype: .float32) } }
            var b: Tensor? = runtime.withScope("encoder") { runtime.withScope("layer2") { Tensor(zeros: [50], dtype: .float64) } }
            let w = Tensor(zeros: [10], dtype: .float32, category: .parameter)
            #expect(profiler.liveTotal == 400 + 400 + 40)
            b = nil
            #expect(b == nil)
            #expect(profiler.live[.activation] == 400)
            _ = (a, w)
        }
        #expect(profiler.liveTotal == 0)
        #expect(profiler.peakTotal == 840)
        #expect(profiler.peak[.activation] == 800 && profiler.peak[.parameter] == 40)
        #expect(profiler.layerPeak["encoder.layer1"] == 400 && profiler.layerPeak["encoder.layer2"] == 400)
        #expect(profiler.peakActivation == 800)
        #expect(profiler.peakActivationScope == "encoder.layer2")
    }

    /// The breakdown at the moment of the total peak adds up to it; per-category maxima,
    /// reached at different moments, do not. The profiler's own log is reported apart.
    /// Thousands of tensors freed in a random order (the profiler's id set grows and shifts
    /// entries back on removal): live bytes stay exact, and frees of tensors allocated
    /// before the profiler was attached are not counted.
    @Test func liveBytesStayExactOverManyAllocationsInAnyFreeOrder() {
        let runtime = Runtime.current
        for recordsEvents in [false, true] {
            var before = (0..<60).map { _ in Tensor(uninitialized: [7], dtype: .float32) }
            let profiler = MemoryProfiler(recordsEvents: recordsEvents)
            runtime.attach(profiler)
            var rng = RandomState(seed: 11)
            var alive: [Tensor] = []
            for round in 0..<6000 {
                alive.append(Tensor(uninitialized: [1 + Int(rng.next() % 300)], dtype: .float32))
                if rng.next() % 2 == 0 { alive.remove(at: Int(rng.next() % UInt64(alive.count))) }
                if round % 1000 == 0 { before.removeLast(10) }
                if round % 997 == 0 {
                    #expect(profiler.liveTotal == alive.reduce(0) { $0 + $1.buffer.bytes }, "round \(round), events \(recordsEvents)")
                }
            }
            #expect(profiler.liveTotal == alive.reduce(0) { $0 + $1.buffer.bytes } && alive.count > 2000 && before.isEmpty)
            alive.removeAll()
            #expect(profiler.liveTotal == 0)
            runtime.detach(profiler)
        }
    }

    @Test func breakdownAtTheTotalPeakAddsUpAndTheLogIsCountedApart() {
        func measure(recording: Bool) -> MemoryProfiler {
            let profiler = MemoryProfiler(recordsEvents: recording)
            let runtime = Runtime.current
            runtime.attach(profiler)
            defer { runtime.detach(profiler) }
            var activation: Tensor? = Tensor(zeros: [250], dtype: .float32)
            activation = nil
            let gradient = Tensor(zeros: [150], dtype: .float32, category: .gradient)
            let parameter = Tensor(zeros: [25], dtype: .float32, category: .parameter)
            _ = (activation, gradient, parameter)
            return profiler
        }
        let profiler = measure(recording: true)
        #expect(profiler.peakTotal == 1000)
        #expect(profiler.atPeakTotal[.activation] == 1000 && profiler.atPeakTotal[.gradient] == 0)
        #expect(profiler.atPeakTotal.values.reduce(0, +) == profiler.peakTotal)
        let maxima: Int = profiler.peak.values.reduce(0, +)
        #expect(maxima == 1700, "the maxima fall at different moments")
        let run = profiler.run(mode: "test", depth: 1)
        #expect(run.bytesByCategoryAtPeakTotal.values.reduce(0, +) == run.peakTotalBytes)
        #expect(run.profilerOwnBytes == profiler.ownBytes && profiler.ownBytes > measure(recording: false).ownBytes)
    }

    /// A free is logged in the phase it happens in: the timeline's phase markers follow the
    /// step (forward, then backward) instead of flipping back to the phase a freed buffer
    /// was allocated in.
    @Test func phaseMarkersFollowTheStep() throws {
        let profiler = MemoryProfiler()
        let runtime = Runtime.current
        runtime.attach(profiler)
        var early: Tensor? = runtime.withPhase(.forward) { Tensor(zeros: [64], dtype: .float32) }
        runtime.withPhase(.backward) {
            let first = Tensor(zeros: [8], dtype: .float32)
            early = nil
            let second = Tensor(zeros: [8], dtype: .float32)
            _ = (first, second, early)
        }
        runtime.detach(profiler)
        let trace = try JSONSerialization.jsonObject(with: profiler.chromeTrace(name: "test")) as? [String: Any]
        let events = trace?["traceEvents"] as? [[String: Any]] ?? []
        let markers = events.filter { $0["ph"] as? String == "i" }.compactMap { $0["name"] as? String }
        #expect(markers == ["forward", "backward"], "\(markers)")
    }

    /// Folded stacks start at the program's entry, whatever its symbol, not in the C start-up.
    @Test func stacksAreCutAtTheProgramEntry() {
        let innermostFirst = ["Runtime.allocate", "TensorCore.linear", "revsearch.ProfileCommand.run() throws -> ()", "revsearch_main",
                              "__libc_init_first", "__libc_start_main", "_start"]
        #expect(MemoryProfiler.meaningfulFrames(innermostFirst) == ["TensorCore.linear", "revsearch.ProfileCommand.run() throws -> ()",
                                                                  "revsearch_main"])
        #expect(MemoryProfiler.meaningfulFrames(["f", "main", "__libc_start_main"]) == ["f", "main"])
        #expect(MemoryProfiler.meaningfulFrames(["f", "static revsearch.RevSearch.$main() -> ()", "revsearch_main", "_start"])
                    == ["f", "static revsearch.RevSearch.$main() -> ()"])
    }

    /// The paper's claim at test size: reconstruction's peak activation memory does not
    /// grow with depth, full storage's does.
    @Test func reconstructionPeakIsFlatInDepthFullGrows() throws {
        func peak(depth: Int, mode: BackpropMode) throws -> Int {
            let config = ModelConfig(sourceVocabulary: 30, targetVocabulary: 30, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                     encoderLayers: depth, decoderLayers: depth, heads: 2, dropout: 0.1, dtype: .float32)
            let model = try ReversibleTransformer(config)
            let batch = SyntheticBatch.make(config: config, batchSize: 4, sourceLength: 9, targetLength: 8, seed: 1)
            let profiler = MemoryProfiler()
            Runtime.current.attach(profiler)
            defer { Runtime.current.detach(profiler) }
            model.trainingStep(batch, mode: mode, dropoutKey: 1)
            #expect(profiler.peakActivationPhase != .idle)
            return profiler.peakActivation
        }
        let (r2, r8) = (try peak(depth: 2, mode: .reconstruction), try peak(depth: 8, mode: .reconstruction))
        let (f2, f8) = (try peak(depth: 2, mode: .full), try peak(depth: 8, mode: .full))
        #expect(Double(r8) <= 1.15 * Double(r2), "reconstruction: \(r2) at depth 2, \(r8) at depth 8")
        #expect(Double(f8) >= 3 * Double(f2), "full storage: \(f2) at depth 2, \(f8) at depth 8")
        #expect(f8 > 4 * r8)
    }

    @Test func callSitesAtThePeakComeFromTheirFunctions() {
        let profiler = MemoryProfiler()
        let runtime = Runtime.current
        runtime.attach(profiler)
        runtime.captureStacks = true
        defer { runtime.detach(profiler); runtime.captureStacks = false }
        var held: [Tensor] = [allocateBigBlock()]
        held.append(Tensor(zeros: [10], dtype: .float32))
        held.removeAll()
        let sites = profiler.callSites(top: 3)
        #expect(sites.first?.bytes == 4096 * 4)
        #expect(sites.first?.frames.contains { $0.contains("allocateBigBlock") } == true, "\(sites.first?.frames.prefix(3) ?? [])")
        let folded = profiler.foldedStacksAtPeak()
        #expect(folded.contains("allocateBigBlock") && folded.contains(" 16384"))
    }

    @Test func chromeTraceAndSVGAreWellFormed() throws {
        let profiler = MemoryProfiler()
        Runtime.current.attach(profiler)
        _ = Runtime.current.withPhase(.forward) { Tensor(zeros: [64], dtype: .float32) }
        Runtime.current.detach(profiler)
        let trace = try JSONSerialization.jsonObject(with: profiler.chromeTrace(name: "test")) as! [String: Any]
        let events = trace["traceEvents"] as! [[String: Any]]
        #expect(events.contains { $0["ph"] as? String == "C" })
        #expect(events.contains { $0["ph"] as? String == "i" && $0["name"] as? String == "forward" })
        let svg = SVGChart.groupedBars(title: "t <&>", categories: ["a", "b"], series: [("full", [1, 2]), ("reconstruction", [0.5, 0.5])],
                                       valueLabel: "bytes")
        #expect(svg.hasPrefix("<svg") && svg.contains("t &lt;&amp;&gt;") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<rect x=").count - 1 >= 4 + 2, "four bars and two legend keys")
    }
}

@inline(never)
func allocateBigBlock() -> Tensor {
    Tensor(zeros: [4096], dtype: .float32)
}
