import Foundation
import Testing
import TensorCore

/// Forward values against direct loops written here: the gradient checks prove each
/// backward matches its forward, these prove the forward computes the intended function.
@Suite struct PrimitiveValueTests {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomState(seed: seed)
        return Tensor(randomNormal: shape, dtype: .float64, rng: &rng)
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    /// out[b,t,o] = bias[o] + sum_{ci,j} w[o,ci,j] x[b, t+j-pad, ci]
    func naiveConv(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, causal: Bool) -> [Double] {
        let (b, t, cin) = (x.shape[0], x.shape[1], x.shape[2])
        let (cout, width) = (w.shape[0], w.shape[2])
        let pad = causal ? width - 1 : (width - 1) / 2
        let xs = x.scalars, ws = w.scalars, bs = bias?.scalars
        var out = [Double](repeating: 0, count: b * t * cout)
        for n in 0..<b { for time in 0..<t { for o in 0..<cout {
            var s = bs?[o] ?? 0
            for ci in 0..<cin { for j in 0..<width {
                let source = time + j - pad
                if source >= 0 && source < t { s += ws[(o * cin + ci) * width + j] * xs[(n * t + source) * cin + ci] }
            } }
            out[(n * t + time) * cout + o] = s
        } } }
        return out
    }

    @Test(arguments: [(3, false), (3, true), (2, false), (11, false), (11, true), (1, true)])
    func conv1dMatchesDirectLoops(width: Int, causal: Bool) {
        let x = random([2, 4, 3], seed: 1), w = random([5, 3, width], seed: 2), bias = random([5], seed: 3)
        let y = conv1d(x, weight: w, bias: bias, padding: causal ? .causal : .centred)
        #expect(y.shape == [2, 4, 5])
        #expect(close(y.scalars, naiveConv(x, w, bias, causal: causal)))
    }

    @Test func causalConvolutionIgnoresTheFuture() {
        let x = random([1, 6, 2], seed: 4), w = random([2, 2, 5], seed: 5)
        let before = conv1d(x, weight: w, padding: .causal).scalars
        x.pointer(Double.self)[4 * 2] += 10   // change time step 4
        let after = conv1d(x, weight: w, padding: .causal).scalars
        #expect(Array(before[0..<8]) == Array(after[0..<8]), "steps 0-3 unchanged")
        #expect(Array(before[8...]) != Array(after[8...]), "step 4 changed")
    }

    @Test func dynamicConvMatchesDirectLoops() {
        let (b, t, c, h, w) = (2, 5, 4, 2, 3)
        let a = random([b, t, c], seed: 6), k = random([b, t, h, w], seed: 7)
        for padding in [ConvPadding.centred, .causal] {
            let pad = padding == .causal ? w - 1 : (w - 1) / 2
            let y = dynamicConv(a, kernels: k, padding: padding).scalars
            let (av, kv) = (a.scalars, k.scalars)
            var expected = [Double](repeating: 0, count: b * t * c)
            for n in 0..<b { for time in 0..<t { for ch in 0..<c {
                let head = ch / (c / h)
                for j in 0..<w where (0..<t).contains(time + j - pad) {
                    expected[(n * t + time) * c + ch] += kv[((n * t + time) * h + head) * w + j] * av[(n * t + time + j - pad) * c + ch]
                }
            } } }
            #expect(close(y, expected))
        }
    }

    @Test func matmulAndLinearMatchDirectLoops() {
        let a = random([3, 4], seed: 8), b = random([4, 2], seed: 9), bias = random([3], seed: 10)
        let (av, bv) = (a.scalars, b.scalars)
        var expected = [Double](repeating: 0, count: 6)
        for i in 0..<3 { for j in 0..<2 { for k in 0..<4 { expected[i * 2 + j] += av[i * 4 + k] * bv[k * 2 + j] } } }
        #expect(close(matmul(a, b).scalars, expected))
        // linear(x, W, b) = x Wᵀ + b with W [out, in]
        let w = random([3, 4], seed: 11), x = random([2, 4], seed: 12)
        let y = linear(x, weight: w, bias: bias).scalars
        let (wv, xv, bsv) = (w.scalars, x.scalars, bias.scalars)
        for r in 0..<2 { for o in 0..<3 {
            let e = bsv[o] + (0..<4).reduce(0.0) { $0 + xv[r * 4 + $1] * wv[o * 4 + $1] }
            #expect(abs(y[r * 3 + o] - e) < 1e-12)
        } }
    }

    @Test func softmaxRowsAndMasks() {
        let x = random([3, 5], seed: 13)
        let y = softmax(x).scalars, xv = x.scalars
        for r in 0..<3 {
            let e = (0..<5).map { exp(xv[r * 5 + $0]) }
            let s = e.reduce(0, +)
            #expect(close(Array(y[(r * 5)..<(r * 5 + 5)]), e.map { $0 / s }))
        }
        let mask = Tensor(shape: [3, 5], scalars: (0..<15).map { $0 >= 10 || $0 % 5 == 4 ? -Double.infinity : 0 }, dtype: .float64)
        let masked = softmax(x, additiveMask: mask).scalars
        #expect(masked[4] == 0 && masked[9] == 0, "masked entries are exactly zero")
        #expect(masked[10..<15].allSatisfy { $0 == 0 }, "a fully masked row is zeros, not NaN")
        #expect(abs(masked[0..<5].reduce(0, +) - 1) < 1e-12)
    }

    @Test func crossEntropyByHand() {
        // Two positions, vocabulary 3, the second ignored (id 0 as padding).
        let logits = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 5, 5, 5], dtype: .float64)
        let lse = log(exp(1.0) + exp(2.0) + exp(3.0))
        let plain = crossEntropy(logits: logits, targets: [1, 0], ignoreIndex: 0).scalarValue
        #expect(abs(plain - (lse - 2)) < 1e-12)
        let smoothed = crossEntropy(logits: logits, targets: [1, 0], labelSmoothing: 0.1, ignoreIndex: 0).scalarValue
        #expect(abs(smoothed - (0.9 * (lse - 2) + 0.1 * (lse - 2))) < 1e-12, "mean logit is 2 here")
        let logp = logSoftmax(logits).scalars
        #expect(abs(logp[1] - (2 - lse)) < 1e-12)
        #expect(crossEntropy(logits: logits, targets: [0, 0], ignoreIndex: 0).scalarValue == 0)
    }

    @Test func layerNormNormalisesRows() {
        let x = random([4, 16], seed: 14)
        let y = layerNorm(x, gamma: Tensor(repeating: 1, shape: [16], dtype: .float64), beta: Tensor(zeros: [16], dtype: .float64), eps: 0).scalars
        for r in 0..<4 {
            let row = Array(y[(r * 16)..<(r * 16 + 16)])
            let mean = row.reduce(0, +) / 16
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 16
            #expect(abs(mean) < 1e-12 && abs(variance - 1) < 1e-12)
        }
    }

    @Test func dropoutReplaysItsMask() {
        let x = Tensor(repeating: 1, shape: [10_000], dtype: .float32)
        let a = dropout(x, rate: 0.3, key: 7).scalars, b = dropout(x, rate: 0.3, key: 7).scalars
        let c = dropout(x, rate: 0.3, key: 8).scalars
        #expect(a == b, "same key, same mask")
        #expect(a != c, "another key, another mask")
        let kept = a.filter { $0 != 0 }
        #expect(abs(Double(kept.count) / 10_000 - 0.7) < 0.02)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 }, "kept entries scaled by 1/(1-p)")
        #expect(a.enumerated().allSatisfy { ($0.element != 0) == dropoutKeeps(key: 7, index: $0.offset, rate: 0.3) })
        #expect(dropout(x, rate: 0, key: 7) === x)
    }

    @Test func activationsAtKnownPoints() {
        let x = Tensor(shape: [3], scalars: [-1.0, 0, 1], dtype: .float64)
        #expect(relu(x).scalars == [0, 0, 1])
        #expect(close(gelu(x).scalars, [-0.15865525393145707, 0, 0.8413447460685429]))
        let e: Double = exp(1)
        let expected: [Double] = [1 / (1 + e), 0.5, e / (1 + e)]
        #expect(close(sigmoid(x).scalars, expected))
    }

    @Test func splitConcatPoolTransposeReshape() {
        let x = random([2, 3, 6], seed: 15)
        let parts = split(x, parts: 3)
        #expect(parts.map(\.shape) == Array(repeating: [2, 3, 2], count: 3))
        #expect(parts[1].scalars[0] == x.scalars[2] && parts[2].scalars[3] == x.scalars[6 + 5])
        #expect(concat(parts).scalars == x.scalars)
        let maxed = elementwiseMax(parts).scalars, meaned = elementwiseMean(parts).scalars
        for i in 0..<maxed.count {
            let values = parts.map { $0.scalars[i] }
            #expect(maxed[i] == values.max()!)
            #expect(abs(meaned[i] - values.reduce(0, +) / 3) < 1e-15)
        }
        let t = transpose(x, 0, 2)
        #expect(t.shape == [6, 3, 2])
        #expect(t.scalars[(4 * 3 + 1) * 2 + 1] == x.scalars[(1 * 3 + 1) * 6 + 4])
        let r = reshape(x, [-1, 6])
        #expect(r.shape == [6, 6] && r.buffer === x.buffer, "reshape is a view")
    }

    @Test func embeddingGathersRows() {
        let table = random([5, 3], seed: 16)
        let y = embedding(table, ids: [4, 0, 4], shape: [1, 3]).scalars
        #expect(Array(y[0..<3]) == Array(table.scalars[12..<15]) && Array(y[6..<9]) == Array(table.scalars[12..<15]))
    }
}
