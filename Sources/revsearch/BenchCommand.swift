import ArgumentParser
import Benchmarks
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
    @Flag(help: "Also measure the matmuls with a second process keeping a core busy (a shell loop), as on a shared machine.")
    var load = false

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

        var matmuls = TextTable("m=n=k", "second process", "allocator", "tensor matmul GFLOP/s", "cblas_sgemm GFLOP/s", "tensor / sgemm")
        // The tensor matmul takes a fresh output each call: from the cache, or from malloc
        // (page faults and clearing) as before the cache.
        func measure(_ loaded: String) {
            defer { Runtime.current.cachesBuffers = true }
            for caching in [true, false] {
                Runtime.current.cachesBuffers = caching
                for f in KernelBenchmark.matmul(sizes: sizeList, repeats: repeats) {
                    matmuls.add("\(f.size)", loaded, caching ? "caching" : "malloc/free", fixed(f.tensorGFLOPs, 1), fixed(f.sgemmGFLOPs, 1),
                                fixed(100 * f.tensorGFLOPs / f.sgemmGFLOPs, 1) + "%")
                }
            }
        }
        measure("none")
        if load {
            let spinner = Process()
            spinner.executableURL = URL(fileURLWithPath: "/bin/sh")
            spinner.arguments = ["-c", "while :; do :; done"]
            try spinner.run()
            defer { spinner.terminate(); spinner.waitUntilExit() }
            measure("busy loop")
        }
        print(matmuls.rendered + "\n")
        let figures = KernelBenchmark.elementwise(elements: elements, repeats: repeats)
        var table = TextTable("op (\(elements) floats)", "GB/s", "vs memcpy")
        for f in figures {
            table.add(f.name, fixed(f.gigabytesPerSecond, 2), fixed(100 * f.gigabytesPerSecond / figures[0].gigabytesPerSecond, 1) + "%")
        }
        print(table.rendered)
    }
}
