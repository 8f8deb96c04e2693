import Profiler
import Reversible
import TensorCore

/// The saving on one batch: a training step in full storage and one in the search's
/// backprop mode, each under a fresh profiler, their peak activation bytes side by side.
public struct MemoryReference: Codable, Sendable {
    /// The search step whose theta batch was measured.
    public let step: Int
    public let mode: String
    public let fullStorageBytes: Int
    public let modeBytes: Int
    /// Full storage's peak activation over the mode's.
    public var savingFactor: Double { Double(fullStorageBytes) / Double(max(modeBytes, 1)) }

    enum CodingKeys: String, CodingKey {
        case step, mode
        case fullStorageBytes = "full_storage_peak_activation_bytes", modeBytes = "mode_peak_activation_bytes"
    }

    /// Both steps on `batch` with `dropoutKey` (step 1's theta batch), gradients cleared
    /// after each, so the search goes on as if they had not run (they change no weight).
    static func measure(_ model: ReversibleTransformer, batch: Seq2SeqBatch, dropoutKey: UInt64, mode: BackpropMode) -> MemoryReference {
        func peak(_ backprop: BackpropMode) -> Int {
            let profiler = MemoryProfiler(recordsEvents: false)
            Runtime.current.attach(profiler)
            defer {
                Runtime.current.detach(profiler)
                model.zeroGradients()
            }
            model.trainingStep(batch, mode: backprop, dropoutKey: dropoutKey)
            return profiler.peakActivation
        }
        return MemoryReference(step: 1, mode: mode.description, fullStorageBytes: peak(.full), modeBytes: peak(mode))
    }
}
