import Testing
import TensorCore
import Verifier

/// Every row of the primitive table passes torch.autograd.gradcheck's tolerances.
@Suite struct PrimitiveGradCheckTests {
    @Test(arguments: PrimitiveCatalog.cases.indices)
    func row(_ index: Int) {
        let c = PrimitiveCatalog.cases[index]
        let result = GradCheck.run(c)
        #expect(result.passed, "\(c.op) \(c.shape) \(c.mode): max abs \(result.maxAbsError), max rel \(result.maxRelError)")
        #expect(result.comparisons > 0)
    }
}
