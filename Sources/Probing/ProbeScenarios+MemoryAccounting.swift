import Foundation
import Profiler
import RunFiles
import TensorCore

extension ProbeScenarios {
    /// The profiler's categories against buffers known by construction: a convolution
    /// (im2col columns, workspace) and a masked softmax (the masked logits, workspace) run
    /// forward and backward under a fresh profiler. Forward keeps exactly the input and the
    /// output as activations; the only workspace alive at once is one columns buffer
    /// [B*T, cin*w] (forward's, then backward's gradient columns, then backward's rebuilt
    /// columns, each freed before the next) or the softmax's masked logits. The metrics are
    /// measured minus expected peak bytes per category: any buffer filed under the wrong
    /// category, or a category counted in another's slot, moves two of them off zero.
    static func memoryAccounting(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let dtypeName = try parameters.string("dtype") ?? "float32"
        guard let dtype = DType(name: dtypeName) else { throw parameters.error("dtype", "expected float32 or float64, found \"\(dtypeName)\"") }
        let (b, t, cin) = (try parameters.int("batch", in: 1...64) ?? 3, try parameters.int("length", in: 1...64) ?? 7, try parameters.int("channels", in: 1...64) ?? 5)
        let (cout, w) = (try parameters.int("out_channels", in: 1...64) ?? 6, try parameters.int("width", in: 1...64) ?? 3)
        var rng = RandomState(seed: 31)
        let size = dtype.size
        func measure(_ body: () -> Void) -> [MemoryCategory: Int] {
            let profiler = MemoryProfiler(recordsEvents: false)
            Runtime.current.attach(profiler)
            defer { Runtime.current.detach(profiler) }
            body()
            return profiler.peak
        }

        let conv = measure {
            let x = Tensor(randomNormal: [b, t, cin], std: 1, dtype: dtype, rng: &rng, category: .activation)
            let weight = Tensor(randomNormal: [cout, cin, w], std: 1, dtype: dtype, rng: &rng, category: .parameter)
            x.requiresGrad = true
            weight.requiresGrad = true
            let tape = Tape()
            let y = tape.recording { conv1d(x, weight: weight, padding: .centred) }
            tape.backward(y)
        }
        let softmaxPeaks = measure {
            let x = Tensor(randomNormal: [b, t, t], std: 1, dtype: dtype, rng: &rng, category: .activation)
            let mask = Tensor(shape: [t, t], scalars: (0..<(t * t)).map { $0 % t > $0 / t ? -Double.infinity : 0 }, dtype: dtype, category: .parameter)
            x.requiresGrad = true
            let tape = Tape()
            let y = tape.recording { softmax(x, additiveMask: mask) }
            tape.backward(y)
        }
        let expected = (convActivation: (b * t * cin + b * t * cout) * size, convWorkspace: b * t * cin * w * size,
                        softmaxActivation: 2 * b * t * t * size, softmaxWorkspace: b * t * t * size)
        return [
            "conv1d_activation_excess_bytes": Double((conv[.activation] ?? 0) - expected.convActivation),
            "conv1d_workspace_excess_bytes": Double((conv[.workspace] ?? 0) - expected.convWorkspace),
            "conv1d_parameter_excess_bytes": Double((conv[.parameter] ?? 0) - cout * cin * w * size),
            "softmax_activation_excess_bytes": Double((softmaxPeaks[.activation] ?? 0) - expected.softmaxActivation),
            "softmax_workspace_excess_bytes": Double((softmaxPeaks[.workspace] ?? 0) - expected.softmaxWorkspace),
            "conv1d_workspace_bytes": Double(conv[.workspace] ?? 0),
        ]
    }
}
