import Ops
import Testing
import TensorCore
import Verifier

/// Every row of the gradient-check table passes: torch.autograd.gradcheck's tolerances in
/// Float64, and Float32 against Float64 within its rounding bound.
@Suite struct PrimitiveGradCheckTests {
    @Test(arguments: GradCheckReport.defaultCases.indices)
    func row(_ index: Int) {
        let c = GradCheckReport.defaultCases[index]
        let result = GradCheck.run(c)
        #expect(result.passed, "\(c.op) \(c.shape) \(c.mode): max abs \(result.maxAbsError), max rel \(result.maxRelError), f32 \(result.float32)")
        #expect(result.comparisons > 0)
    }

    /// Every candidate op of the registry has rows, causal and centred unless decoder-only,
    /// and a parametric op has them under the pre-norm wrapper too.
    @Test func everyCandidateOpHasRows() throws {
        let rows = try CandidateOpCatalog.cases(registry: .standard)
        for name in OpRegistry.standard.names {
            let forms = name == "cross_attn" ? 1 : 2
            let count = rows.filter { $0.op == "op:" + name }.count
            #expect(count == forms, "\(name): \(count) rows")
            let preNorm = rows.filter { $0.op == "op:\(name)/pre-norm" }.count
            #expect(preNorm == (["zero", "identity"].contains(name) ? 0 : forms), "\(name)/pre-norm: \(preNorm) rows")
        }
    }
}
