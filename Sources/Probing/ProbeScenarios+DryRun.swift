import Foundation
import InstrumentedRun
import Reversible
import RunFiles
import TensorCore

extension ProbeScenarios {
    /// The shape-only dry run against the profiler's measurement of the real step, over a
    /// grid of configurations: backprop modes x depths x widths x batch shapes x steps (a
    /// training step and search steps of the super-network, a training step of the
    /// baseline, which has one mode). A plan is only worth its agreement with what it
    /// predicts; the metrics are the largest relative differences of the peak reserved by
    /// the caching allocator, the peak total and the peak activation, and how many
    /// configurations differ at all (the goal is none).
    static func dryRun(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let model = try parameters.preset("preset", default: "search")
        let modeTexts = try parameters.strings("modes") ?? ["full", "reconstruction", "hybrid:2"]
        let modes = try modeTexts.map { text in
            guard let mode = BackpropMode(text) else { throw parameters.error("modes", "unknown mode '\(text)' (full, reconstruction or hybrid:K)") }
            return mode
        }
        let depths = try parameters.ints("depths") ?? [2, 4]
        let widths = try parameters.ints("widths") ?? [model.modelWidth]
        let shapes = try parameters.ints("batch_shapes") ?? [4, 9, 8, 16]
        guard shapes.count % 2 == 0, !shapes.isEmpty, shapes.allSatisfy({ (1...4096).contains($0) }) else {
            throw parameters.error("batch_shapes", "expected pairs of sentences and length, each in 1...4096, flattened: [B1, L1, B2, L2, ...]")
        }
        guard depths.allSatisfy({ (1...SizeLimits.depth).contains($0) }), widths.allSatisfy({ $0 >= 1 && $0 <= SizeLimits.dimension }) else {
            throw parameters.error("depths", "expected depths in 1...\(SizeLimits.depth) and widths in 1...\(SizeLimits.dimension)")
        }
        let searchSteps = try parameters.int("search_steps", in: 1...100) ?? 2
        let steps: [ProfiledStep] = [.training, .search(steps: searchSteps), .baseline]

        var configurations = 0, differing = 0
        var worstReserved = 0.0, worstTotal = 0.0, worstActivation = 0.0, worstLayer = 0.0
        for step in steps {
            for depth in depths {
                for width in widths {
                    for shape in stride(from: 0, to: shapes.count, by: 2) {
                        for mode in step == .baseline ? [BackpropMode.full] : modes {
                            var config = model
                            config.encoderLayers = depth
                            config.decoderLayers = depth
                            config.modelWidth = width
                            var profiling = StepProfiling(batch: shapes[shape], length: shapes[shape + 1])
                            profiling.step = step
                            let measured = try profiling.profileStep(config, mode: mode, depth: depth).run
                            profiling.shapeOnly = true
                            let predicted = try profiling.profileStep(config, mode: mode, depth: depth).run
                            func relative(_ a: Int, _ b: Int) -> Double { Double(abs(a - b)) / Double(max(b, 1)) }
                            let reserved = relative(predicted.peakReservedBytes, measured.peakReservedBytes)
                            let total = relative(predicted.peakTotalBytes, measured.peakTotalBytes)
                            let activation = relative(predicted.peakActivationBytes, measured.peakActivationBytes)
                            let layers = zip(predicted.layers, measured.layers).map { relative($0.peakActivationBytes, $1.peakActivationBytes) }.max() ?? 0
                            let sameLayers = predicted.layers.map(\.name) == measured.layers.map(\.name)
                            configurations += 1
                            if reserved > 0 || total > 0 || activation > 0 || layers > 0 || !sameLayers
                                || predicted.bytesByCategoryAtPeakTotal != measured.bytesByCategoryAtPeakTotal {
                                differing += 1
                                print("dry run differs: \(step) \(mode) depth \(depth) d \(width) batch \(shapes[shape])x\(shapes[shape + 1]): "
                                      + "reserved \(predicted.peakReservedBytes) vs \(measured.peakReservedBytes), "
                                      + "total \(predicted.peakTotalBytes) vs \(measured.peakTotalBytes), "
                                      + "activation \(predicted.peakActivationBytes) vs \(measured.peakActivationBytes)")
                            }
                            worstReserved = max(worstReserved, reserved)
                            worstTotal = max(worstTotal, total)
                            worstActivation = max(worstActivation, activation)
                            worstLayer = max(worstLayer, sameLayers ? layers : 1)
                        }
                    }
                }
            }
        }
        return [
            "configurations": Double(configurations),
            "configurations_differing": Double(differing),
            "max_peak_reserved_relative_difference": worstReserved,
            "max_peak_total_relative_difference": worstTotal,
            "max_peak_activation_relative_difference": worstActivation,
            "max_layer_peak_relative_difference": worstLayer,
        ]
    }
}
