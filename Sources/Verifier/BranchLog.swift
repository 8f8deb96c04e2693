import TensorCore

/// Records the ReLU and max-pooling branches of one computation and replays them in others
/// (see `BranchDecisions`): a Float32 full-storage step records; its reconstruction and
/// the Float64 twin's steps replay. Decisions are kept per scope path in call order, and a
/// replay cycles through a scope's list, since reconstruction passes every scope twice
/// (the forward, then the recomputation) with the same calls each time.
///
/// A replayed decision the computation would have taken the other way is a flip; its
/// margin is how far the value was from the branch point, relative to the tensor's RMS.
/// Rounding explains only margins near zero: a kernel that thresholds ReLU wrongly, or a
/// reconstruction that rebuilds a different input, flips with large margins and fails.
final class BranchLog: BranchDecisions {
    enum Mode { case record, replay }

    var mode = Mode.record
    private var decisions: [String: [[UInt8]]] = [:]
    private var cursors: [String: Int] = [:]
    /// Replayed decisions the computation itself would have taken the other way.
    private(set) var flips = 0
    /// The largest margin of a flip (relative to the RMS of the tensor it happened in).
    private(set) var largestFlipMargin = 0.0
    /// Calls in a replay with no recorded decision of their shape: the computations differ.
    private(set) var unmatched = 0

    /// Starts a replayed computation from each scope's first decision.
    func replay() {
        mode = .replay
        cursors = [:]
    }

    func reluMask(_ x: Tensor) -> Tensor {
        let values = x.scalars
        let own = values.map { $0 > 0 ? UInt8(1) : 0 }
        let scale = rms(values)
        let chosen = decide("relu@" + Runtime.current.scope.path, own: own) { j, _ in abs(values[j]) / scale }
        return Tensor(shape: x.shape, scalars: chosen.map(Double.init), dtype: x.dtype)
    }

    func maxMasks(_ xs: [Tensor]) -> [Tensor] {
        let values = xs.map(\.scalars)
        let count = values[0].count
        let own = (0..<count).map { i -> UInt8 in
            var winner = 0
            for k in 1..<values.count where values[k][i] > values[winner][i] { winner = k }
            return UInt8(winner)
        }
        let scale = values.map(rms).max() ?? 0
        // A flip's margin: how far below this computation's maximum the replayed winner is.
        let chosen = decide("max@" + Runtime.current.scope.path, own: own) { i, replayed in
            (values[Int(own[i])][i] - values[Int(replayed)][i]) / scale
        }
        return values.indices.map { k in
            Tensor(shape: xs[k].shape, scalars: chosen.map { $0 == k ? 1.0 : 0 }, dtype: xs[k].dtype)
        }
    }

    /// The decisions to apply: `own` when recording; the recorded ones when replaying,
    /// counting where they differ from `own` and the margin `margin(j, replayed)` of each flip.
    private func decide(_ key: String, own: [UInt8], margin: (Int, UInt8) -> Double) -> [UInt8] {
        switch mode {
        case .record:
            decisions[key, default: []].append(own)
            return own
        case .replay:
            guard let recorded = decisions[key], !recorded.isEmpty else { unmatched += 1; return own }
            let index = cursors[key, default: 0]
            cursors[key] = index + 1
            let chosen = recorded[index % recorded.count]
            guard chosen.count == own.count else { unmatched += 1; return own }
            for j in own.indices where chosen[j] != own[j] {
                flips += 1
                largestFlipMargin = max(largestFlipMargin, margin(j, chosen[j]))
            }
            return chosen
        }
    }

    private func rms(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
    }
}
