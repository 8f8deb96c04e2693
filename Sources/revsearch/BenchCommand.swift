import ArgumentParser
import CBLAS
import Foundation
import TensorCore
import Verifier

/// `revsearch bench ...`: commands that print speed figures. Figures are medians of
/// repeated runs measured in one process, next to the OpenBLAS kernel that made them.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print speed figures (medians of repeated runs).",
        subcommands: [KernelsBench.self, StepBench.self, ProfilerBench.self, TrainBench.self, BudgetBench.self]
    )
}

struct KernelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Tensor matmul vs direct cblas_sgemm (GFLOP/s), elementwise ops vs memcpy (GB/s)."
    )

    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Square matmul sizes.") var sizes = "128,256,512,1024"
    @Option(help: "Repetitions per figure (the median is reported).") var repeats = 21
    @Option(help: "Elements per elementwise operand.") var elements = 4_000_000

    func validate() throws {
        try OptionRanges.threads(threads)
        try OptionRanges.whole("repeats", repeats, 1...100_000)
        try OptionRanges.whole("elements", elements, 1...(1 << 30))
    }

    func run() throws {
        BLAS.threads = threads
        let sizeList = try sizes.split(separator: ",").map { part -> Int in
            guard let n = Int(part), (1...32768).contains(n) else { throw ValidationError("--sizes: expected whole numbers in 1...32768, found '\(part)'") }
            return n
        }
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads), repeats: \(repeats) (medians)\n")

        var matmuls = TextTable("m=n=k", "tensor matmul GFLOP/s", "cblas_sgemm GFLOP/s", "tensor / sgemm")
        for n in sizeList {
            var rng = RandomState(seed: 1)
            let a = Tensor(randomNormal: [n, n], dtype: .float32, rng: &rng)
            let b = Tensor(randomNormal: [n, n], dtype: .float32, rng: &rng)
            let c = Tensor(zeros: [n, n], dtype: .float32)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            // Interleaved, so both see the same machine load.
            var tensorTimes: [Double] = [], directTimes: [Double] = []
            for _ in 0..<repeats {
                tensorTimes.append(seconds { _ = matmul(a, b) })
                directTimes.append(seconds {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1,
                                a.pointer(Float.self), blasint(n), b.pointer(Float.self), blasint(n), 0, c.pointer(Float.self), blasint(n))
                })
            }
            let t = flops / median(tensorTimes) / 1e9, d = flops / median(directTimes) / 1e9
            matmuls.add("\(n)", fixed(t, 1), fixed(d, 1), fixed(100 * t / d, 1) + "%")
        }
        print(matmuls.rendered + "\n")

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
        var table = TextTable("op (\(elements) floats)", "GB/s", "vs memcpy")
        var memcpyRate = 0.0
        for (name, moved, body) in cases {
            let rate = moved / median((0..<repeats).map { _ in seconds(body) }) / 1e9
            if name == "memcpy" { memcpyRate = rate }
            table.add(name, fixed(rate, 2), fixed(100 * rate / memcpyRate, 1) + "%")
        }
        print(table.rendered)
    }
}

/// Wall-clock seconds of one call.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}
