import Testing
import Verifier

/// The Float32 allowance is a priori: it follows depth and size, is bounded whatever they
/// are, and stays far under a 1% gradient error at the sizes the project runs.
@Suite struct Float32AllowanceTests {
    let policy = TolerancePolicy.standard

    @Test func growsWithDepthAndSizeAndStopsAtTheFittedRange() {
        let depths = [2, 4, 8, 16, 32]
        let values = depths.map { policy.float32Allowance(depth: $0, sumLength: 5_000) }
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
        #expect(policy.float32Allowance(depth: 1_000_000, sumLength: 5_000) == values.last)
        let huge = policy.float32Allowance(depth: 32, sumLength: Int.max)
        #expect(huge == policy.float32Allowance(depth: 32, sumLength: 1 << 26))
        #expect(huge < 6e-2)
    }

    /// The default verify batch at depth 2, and a Multi30k search batch (d = 240, about
    /// 4,000 tokens), are both far under 1e-2: a 1% error cannot hide.
    @Test func aOnePercentErrorCannotHideAtTheSizesRun() {
        #expect(policy.float32Allowance(depth: 2, sumLength: 22 * 240) < 3e-5)
        #expect(policy.float32Allowance(depth: 2, sumLength: 4_100 * 240) < 1.5e-4)
        #expect(policy.float32Allowance(depth: 8, sumLength: 4_100 * 240) < 1e-3)
    }

    /// Measured values it must cover: Float32 full storage against Float64, synthetic batch
    /// (depths 2-32) and a Multi30k alpha at depth 2.
    @Test func coversTheMeasuredRounding() {
        for (depth, measured) in [(2, 2.0e-6), (4, 1.4e-5), (8, 5.7e-5), (16, 1.4e-3), (32, 1.2e-2)] {
            #expect(policy.float32Allowance(depth: depth, sumLength: 22 * 240) > 3 * measured)
        }
        #expect(policy.float32Allowance(depth: 2, sumLength: 4_100 * 240) > 5 * 2.3e-5)
    }
}
