import Profiler
import TensorCore
import Testing

/// The budget's accounting and its size syntax; going over it (which ends the process) is
/// tested through `revsearch search --memory-budget` in the command-line tests.
@Suite struct MemoryBudgetTests {
    @Test func sizesInBinaryAndDecimalUnits() {
        #expect(MemoryBudget.parseSize("2GiB") == 2 << 30)
        #expect(MemoryBudget.parseSize("2 GiB") == 2 << 30)
        #expect(MemoryBudget.parseSize("1.5g") == 3 << 29)
        #expect(MemoryBudget.parseSize("512MiB") == 512 << 20)
        #expect(MemoryBudget.parseSize("64k") == 64 << 10)
        #expect(MemoryBudget.parseSize("2GB") == 2_000_000_000)
        #expect(MemoryBudget.parseSize("1500000") == 1_500_000)
        for bad in ["", "GiB", "two gigs", "-1GiB", "0", "3 parsecs"] { #expect(MemoryBudget.parseSize(bad) == nil, "\(bad)") }
    }

    /// Live bytes are the tensors'; the peak is the cache's reserved bytes: both tensors
    /// come from one 2 MiB segment, on top of what it held before.
    @Test func countsLiveAndPeakBytesOfEveryCategory() {
        let budget = MemoryBudget(bytes: 1 << 30)
        let runtime = Runtime.current
        runtime.emptyCache()
        let before = runtime.reservedBytes
        runtime.attach(budget)
        defer { runtime.detach(budget) }
        do {
            let w = Tensor(zeros: [256], dtype: .float32, category: .parameter)
            var a: Tensor? = Tensor(zeros: [512], dtype: .float64)
            #expect(budget.liveBytes == 1024 + 4096)
            a = nil
            #expect(a == nil && budget.liveBytes == 1024)
            _ = w
        }
        #expect(budget.liveBytes == 0)
        #expect(budget.peakBytes == before + (2 << 20))
    }
}
