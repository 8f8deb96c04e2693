import Foundation
import Reversible
import TensorCore
import Testing
import Translation

@Suite struct TransformerBaselineTests {
    static func tiny(dropout: Double = 0.1) -> TransformerBaseline {
        TransformerBaseline(.init(vocabulary: 300, modelWidth: 16, encoderLayers: 2, decoderLayers: 2, heads: 2, dropout: dropout, dtype: .float64, seed: 4))
    }

    static let batch = TokenBatcher.batch([
        TokenizedPair(source: [270, 280, 290, 271], target: [272, 273, 274]),
        TokenizedPair(source: [281, 282], target: [275]),
    ])

    /// The whole model's gradient against Float64 finite differences of its loss, along a
    /// random unit direction (dropout masks fixed by the key).
    @Test func gradientMatchesFiniteDifferences() {
        let model = Self.tiny()
        _ = model.trainingStep(Self.batch, dropoutKey: 5, labelSmoothing: 0.1)
        var rng = RandomState(seed: 8)
        let parameters = model.parameters.map(\.tensor)
        var u = parameters.map { t in (0..<t.count).map { _ in rng.normal() } }
        let norm = u.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
        u = u.map { $0.map { $0 / norm } }
        let analytic = zip(parameters, u).reduce(0.0) { total, pair in
            total + zip(pair.0.grad!.scalars, pair.1).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let saved = parameters.map(\.scalars)
        func loss(_ step: Double) -> Double {
            for (k, t) in parameters.enumerated() {
                let p = t.pointer(Double.self)
                for i in 0..<t.count { p[i] = saved[k][i] + step * u[k][i] }
                t.grad = nil
            }
            return model.trainingStep(Self.batch, dropoutKey: 5, labelSmoothing: 0.1)
        }
        let numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
        #expect(abs(analytic - numeric) <= 1e-5 + 1e-3 * abs(numeric), "analytic \(analytic), numeric \(numeric)")
    }

    /// Teacher-forced logits of decode() equal the training forward's at every position, and
    /// position t never depends on later inputs.
    @Test func decodeIsCausalAndConsistent() {
        let model = Self.tiny(dropout: 0)
        let encoded = model.encode(Self.batch)
        let inputs: [[Int32]] = [[1, 272, 273, 274], [1, 275, 0, 0]]
        let full = model.decode(encoded, targetInput: inputs, lastPositionOnly: false).scalars
        let prefix = model.decode(encoded, targetInput: inputs.map { Array($0.prefix(2)) }, lastPositionOnly: false).scalars
        let last = model.decode(encoded, targetInput: inputs.map { Array($0.prefix(2)) }, lastPositionOnly: true).scalars
        #expect(last.count == 2 * 300)
        for b in 0..<2 { for j in 0..<300 { #expect(abs(last[b * 300 + j] - prefix[(b * 2 + 1) * 300 + j]) < 1e-12) } }
        let v = 300
        for b in 0..<2 {
            for t in 0..<2 {
                for j in 0..<v {
                    #expect(abs(full[(b * 4 + t) * v + j] - prefix[(b * 2 + t) * v + j]) < 1e-12)
                }
            }
        }
    }
}
