import CBLAS
import TensorCore

/// What `revsearch bench kernels` measures: the tensor core's matmul against a bare
/// `cblas_sgemm` on the same operands, and elementwise ops against memcpy, interleaved so
/// both see the same machine load; medians of `repeats`.
package enum KernelBenchmark {
    package struct MatmulFigure {
        package let size: Int
        package let tensorGFLOPs: Double
        package let sgemmGFLOPs: Double
    }

    package struct BandwidthFigure {
        package let name: String
        package let gigabytesPerSecond: Double
    }

    package static func matmul(sizes: [Int], repeats: Int) -> [MatmulFigure] {
        sizes.map { n in
            var rng = RandomState(seed: 1)
            let a = Tensor(randomNormal: [n, n], dtype: .float32, rng: &rng)
            let b = Tensor(randomNormal: [n, n], dtype: .float32, rng: &rng)
            let c = Tensor(zeros: [n, n], dtype: .float32)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            var tensorTimes: [Double] = [], directTimes: [Double] = []
            for _ in 0..<repeats {
                tensorTimes.append(seconds { _ = TensorCore.matmul(a, b) })
                directTimes.append(seconds {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1,
                                a.pointer(Float.self), blasint(n), b.pointer(Float.self), blasint(n), 0, c.pointer(Float.self), blasint(n))
                })
            }
            return MatmulFigure(size: n, tensorGFLOPs: flops / median(tensorTimes) / 1e9, sgemmGFLOPs: flops / median(directTimes) / 1e9)
        }
    }

    /// memcpy first: the other figures are read as fractions of it.
    package static func elementwise(elements: Int, repeats: Int) -> [BandwidthFigure] {
        var rng = RandomState(seed: 2)
        let x = Tensor(randomNormal: [elements], dtype: .float32, rng: &rng)
        let y = Tensor(randomNormal: [elements], dtype: .float32, rng: &rng)
        let target = Tensor(zeros: [elements], dtype: .float32)
        let bytes = Double(elements * 4)
        // Bytes moved: memcpy reads one operand and writes one; binary ops read two.
        let cases: [(String, Double, () -> Void)] = [
            ("memcpy", 2 * bytes, { target.buffer.raw.copyMemory(from: x.buffer.raw, byteCount: elements * 4) }),
            ("add", 3 * bytes, { _ = add(x, y) }),
            ("mul", 3 * bytes, { _ = mul(x, y) }),
            ("scale", 2 * bytes, { _ = scale(x, 0.5) }),
        ]
        return cases.map { name, moved, body in
            BandwidthFigure(name: name, gigabytesPerSecond: moved / median((0..<repeats).map { _ in seconds(body) }) / 1e9)
        }
    }
}
