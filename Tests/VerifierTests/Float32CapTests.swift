import Testing
import Verifier

/// The gradient rule of a search's checks on numbers placed either side of each limit: with
/// a Float64 twin that proves the algorithm exact, a Float32 gradient may differ up to
/// `TolerancePolicy.float32Cap` or Float32 storage's own error against Float64; without
/// such a twin, the depth-scaled limit alone decides.
@Suite struct Float32CapTests {
    static let full: [[Double]] = [[1, 1, 1, 1]]
    /// Off from `full` by `relative` in the ||Δg|| / ||g|| sense.
    static func tested(off relative: Double) -> [[Double]] { [[1 + 2 * relative, 1, 1, 1]] }
    static let depthLimit = TolerancePolicy.standard.tolerance(dtype: .float32, depth: 2).gradient

    static func passed(off relative: Double, twinExact: Bool, storageNoise: Double = 1e-5) -> Bool {
        let twin = VerificationReport.Float64Reference(maxActivationRelError: twinExact ? 1e-15 : 1e-1,
                                                       maxGradScaledError: twinExact ? 1e-15 : 1e-1, exact: twinExact,
                                                       float32Noise: [storageNoise], testedError: [relative])
        let rows = Verification.compareGradients(names: ["w"], tested: tested(off: relative), full: full,
                                                 tolerance: depthLimit, floorFraction: 1e-3, reference: twin,
                                                 float32Cap: TolerancePolicy.standard.float32Cap)
        return rows[0].passed
    }

    @Test func exactTwinAdmitsFloat32ErrorsUpToTheCap() {
        #expect(TolerancePolicy.standard.float32Cap == 1e-2)
        #expect(Self.passed(off: 1.7e-3, twinExact: true), "Multi30k step 800: reconstruction the odd one out")
        #expect(Self.passed(off: 9e-3, twinExact: true))
        #expect(!Self.passed(off: 2e-2, twinExact: true))
    }

    @Test func storagesOwnErrorRaisesTheLimit() {
        #expect(Self.passed(off: 3e-2, twinExact: true, storageNoise: 4e-2))
        #expect(!Self.passed(off: 5e-2, twinExact: true, storageNoise: 4e-2))
    }

    @Test func withoutAnExactTwinTheDepthLimitDecides() {
        #expect(Self.passed(off: Self.depthLimit / 2, twinExact: false))
        #expect(!Self.passed(off: 1.7e-3, twinExact: false))
        #expect(!Self.passed(off: Self.depthLimit * 2, twinExact: false))
    }
}
