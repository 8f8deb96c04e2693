/// sacreBLEU 2.6.0's paired bootstrap resampling test (`sacrebleu REF -i BASELINE OTHER...
/// -m bleu chrf --paired-bs`, under numpy 2), reproduced bit for bit so that the p-values,
/// means and intervals are the ones sacreBLEU prints for the same files: the same resampled
/// sentences (`NumpyPCG64`), each resample's sentence statistics summed in float32 and scored
/// in the precision numpy computes in, the mean of the sorted scores summed as numpy sums.
///
/// Every system is resampled with the same sentences as the baseline. A system's p-value is
/// the share of resamples (plus one, over their number plus one) whose absolute difference
/// from the baseline, less the mean of those differences, exceeds the actual difference.
public enum PairedBootstrap {
    public enum Seed: Sendable, Equatable, CustomStringConvertible {
        /// `np.random.default_rng(seed)` for every draw, as sacreBLEU seeds each test.
        case fixed(UInt64)
        /// sacreBLEU's SACREBLEU_SEED=none: fresh entropy for the baseline's interval and for
        /// each comparison.
        case unseeded

        public var description: String {
            if case .fixed(let seed) = self { return "\(seed)" }
            return "none"
        }

        func generator() -> NumpyPCG64 {
            if case .fixed(let seed) = self { return NumpyPCG64(seed: seed) }
            return NumpyPCG64.unseeded()
        }
    }

    /// One system's figures for one metric: its score on the whole corpus, the mean of its
    /// resampled scores and half the width of their 95% interval, and (not for the baseline)
    /// the p-value of its difference from the baseline.
    public struct Estimate: Sendable, Equatable, Encodable {
        public let score: Double
        public let mean: Double
        public let ci: Double
        public let pValue: Double?

        enum CodingKeys: String, CodingKey { case score, mean, ci, pValue = "p_value" }

        /// sacreBLEU's JSON keys, the baseline's p-value as null.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(score, forKey: .score)
            try container.encode(mean, forKey: .mean)
            try container.encode(ci, forKey: .ci)
            try container.encode(pValue, forKey: .pValue)
        }
    }

    public struct SystemResult: Sendable, Equatable {
        public let bleu: Estimate
        public let chrf: Estimate
    }

    /// The test of `systems` against the baseline `systems[0]`, each system line-aligned with
    /// every reference stream; `resamples` ≥ 1.
    public static func test(systems: [[String]], referenceStreams: [[String]], resamples: Int, seed: Seed) -> [SystemResult] {
        precondition(systems.count >= 2 && resamples >= 1 && !referenceStreams.isEmpty
                     && (systems + referenceStreams).allSatisfy { $0.count == systems[0].count },
                     "\(systems.count) systems of \(systems.map(\.count)) lines, references of \(referenceStreams.map(\.count)), \(resamples) resamples")
        let statistics = systems.map { SentenceStatistics(hypotheses: $0, referenceStreams: referenceStreams) }
        var generator = seed.generator()
        let fixed = seed != .unseeded
        // sacreBLEU seeds the baseline's interval and each comparison anew: with a fixed seed
        // they all draw the same resamples, so one pass serves all.
        let shared = resample(fixed ? statistics : [statistics[0]], count: resamples, generator: &generator)
        let baseline = statistics[0], baselineScores = shared[0]
        var results = [SystemResult(bleu: Estimate(score: baseline.bleuScore, interval: meanAndInterval(baselineScores.bleu), pValue: nil),
                                    chrf: Estimate(score: baseline.chrfScore, interval: chrfInterval(baselineScores.chrf), pValue: nil))]
        for k in 1..<systems.count {
            let pair: [Resampled]
            if fixed {
                pair = [shared[0], shared[k]]
            } else {
                var own = seed.generator()
                pair = resample([baseline, statistics[k]], count: resamples, generator: &own)
            }
            let system = statistics[k]
            let bleuP = pValue(pair[1].bleu, pair[0].bleu, difference: abs(baseline.bleuScore - system.bleuScore))
            let chrfP: Double
            let chrfDifference = abs(baseline.chrfScore - system.chrfScore)
            if let systemChrF = float32(pair[1].chrf), let baselineChrF = float32(pair[0].chrf) {
                chrfP = pValue(systemChrF, baselineChrF, difference: chrfDifference)
            } else {
                chrfP = pValue(float64(pair[1].chrf), float64(pair[0].chrf), difference: chrfDifference)
            }
            results.append(SystemResult(bleu: Estimate(score: system.bleuScore, interval: meanAndInterval(pair[1].bleu), pValue: bleuP),
                                        chrf: Estimate(score: system.chrfScore, interval: chrfInterval(pair[1].chrf), pValue: chrfP)))
        }
        return results
    }

    /// A metric's signature with the test's settings where sacreBLEU puts them, after nrefs.
    public static func signature(_ signature: String, resamples: Int, seed: Seed) -> String {
        var fields = signature.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        fields.insert(contentsOf: ["bs:\(resamples)", "seed:\(seed)"], at: min(1, fields.count))
        return fields.joined(separator: "|")
    }

    /// One system's sentence statistics as sacreBLEU holds them for resampling (float32,
    /// sentence by sentence), and its scores on the whole corpus (from the exact sums).
    struct SentenceStatistics {
        let sentences: Int
        let bleu: [Float]
        let chrf: [Float]
        let bleuScore: Double
        let chrfScore: Double

        init(hypotheses: [String], referenceStreams: [[String]]) {
            var bleu: [Int] = [], chrf: [Int] = []
            for (i, hypothesis) in hypotheses.enumerated() {
                let references = referenceStreams.map { $0[i] }
                bleu += BLEUScore.statistics(hypothesis: hypothesis, references: references)
                chrf += ChrFScore.statistics(hypothesis: hypothesis, references: references)
            }
            sentences = hypotheses.count
            self.bleu = bleu.map(Float.init)
            self.chrf = chrf.map(Float.init)
            bleuScore = BLEUScore.compute(statistics: Self.columnSums(bleu, width: BLEUScore.statisticsCount)).score
            chrfScore = ChrFScore.score(Self.columnSums(chrf, width: ChrFScore.statisticsCount))
        }

        static func columnSums(_ rows: [Int], width: Int) -> [Int] {
            var sums = [Int](repeating: 0, count: width)
            for (i, value) in rows.enumerated() { sums[i % width] += value }
            return sums
        }
    }

    /// A system's scores over the resamples. chrF's are float32, or nil where sacreBLEU's is
    /// its Python 0.0 (see `ChrFScore.fScore`).
    struct Resampled {
        var bleu: [Double] = []
        var chrf: [Float?] = []
    }

    /// Each system's scores over `count` resamples: row r of numpy's `choice(n, size=(count, n))`
    /// picks the sentences, whose statistics are summed in float32 in row order, as numpy's
    /// `sum(0)` over the float32 array adds them.
    static func resample(_ systems: [SentenceStatistics], count: Int, generator: inout NumpyPCG64) -> [Resampled] {
        let n = systems.first?.sentences ?? 0
        var results = systems.map { _ in Resampled() }
        var row = [Int](repeating: 0, count: n)
        var bleu = [Float](repeating: 0, count: BLEUScore.statisticsCount)
        var chrf = [Float](repeating: 0, count: ChrFScore.statisticsCount)
        for _ in 0..<count {
            for i in row.indices { row[i] = Int(generator.integer(below: UInt64(n))) }
            for (k, system) in systems.enumerated() {
                sum(system.bleu, rows: row, into: &bleu)
                sum(system.chrf, rows: row, into: &chrf)
                let precisions = BLEUScore.smoothedPrecisions(counts: bleu[2..<6], totals: bleu[6..<10])
                let bp = BLEUScore.brevityPenalty(hypothesisLength: Int(bleu[0]), referenceLength: Int(bleu[1]))
                results[k].bleu.append(BLEUScore.score(brevityPenalty: bp, precisions: precisions))
                results[k].chrf.append(ChrFScore.fScore(chrf))
            }
        }
        return results
    }

    /// The sum of the statistics of sentences `rows` (`sums.count` values a sentence).
    static func sum(_ statistics: [Float], rows: [Int], into sums: inout [Float]) {
        let width = sums.count
        statistics.withUnsafeBufferPointer { values in
            sums.withUnsafeMutableBufferPointer { sums in
                for j in 0..<width { sums[j] = 0 }
                for i in rows {
                    for j in 0..<width { sums[j] += values[i * width + j] }
                }
            }
        }
    }

    /// chrF's resampled scores as numpy holds them: a float32 array unless one is a Python
    /// float, which makes the whole array float64.
    static func float32(_ scores: [Float?]) -> [Float]? {
        let values = scores.compactMap { $0 }
        return values.count == scores.count ? values : nil
    }

    static func float64(_ scores: [Float?]) -> [Double] { scores.map { Double($0 ?? 0) } }

    static func chrfInterval(_ scores: [Float?]) -> (mean: Double, ci: Double) {
        if let values = float32(scores) { return meanAndInterval(values) }
        return meanAndInterval(float64(scores))
    }

    /// sacreBLEU's `estimate_ci`: the mean of the sorted scores, and half the distance between
    /// the scores ranked n/40 from either end.
    static func meanAndInterval<T: BinaryFloatingPoint>(_ scores: [T]) -> (mean: Double, ci: Double) {
        let sorted = scores.sorted()
        let lower = sorted.count / 40
        let mean = pairwiseSum(sorted[...]) / T(sorted.count)
        return (Double(mean), Double(0.5 * (sorted[sorted.count - lower - 1] - sorted[lower])))
    }

    /// sacreBLEU's p-value; a float32 array is compared with the actual difference rounded to
    /// float32, as numpy 2 compares it.
    static func pValue<T: BinaryFloatingPoint>(_ system: [T], _ baseline: [T], difference: Double) -> Double {
        let differences = zip(system, baseline).map { abs($0 - $1) }
        let mean = pairwiseSum(differences[...]) / T(differences.count)
        let actual = T(difference)
        let exceeding = differences.filter { $0 - mean > actual }.count
        return Double(exceeding + 1) / Double(differences.count + 1)
    }

    /// numpy's pairwise summation, the order (and so the roundings) of its float sums: runs of
    /// up to 128 values summed with eight accumulators, longer ones halved at a multiple of 8.
    static func pairwiseSum<T: BinaryFloatingPoint>(_ values: ArraySlice<T>) -> T {
        let n = values.count, start = values.startIndex
        if n < 8 { return values.reduce(0, +) }
        if n > 128 {
            let half = n / 2 - (n / 2) % 8
            return pairwiseSum(values.prefix(half)) + pairwiseSum(values.dropFirst(half))
        }
        var accumulators = Array(values.prefix(8))
        var i = 8
        while i < n - n % 8 {
            for j in 0..<8 { accumulators[j] += values[start + i + j] }
            i += 8
        }
        let a = accumulators
        var total = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
        for value in values.dropFirst(i) { total += value }
        return total
    }
}

extension PairedBootstrap.Estimate {
    init(score: Double, interval: (mean: Double, ci: Double), pValue: Double?) {
        self.init(score: score, mean: interval.mean, ci: interval.ci, pValue: pValue)
    }
}
