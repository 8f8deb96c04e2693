import Foundation
import Profiler
import Reversible
import Search
import Verifier

/// The files of a search run directory.
public struct SearchPaths {
    /// The run directory.
    public let run: String
    /// The files of the run in `run`.
    public init(run: String) { self.run = run }
    /// The checkpoint JSON (`search.json`), naming its weights file.
    public var checkpoint: String { "\(run)/\(SearchRun.checkpointName).json" }
    /// The derived architecture.
    public var genotype: String { "\(run)/genotype.json" }
    /// One row per step: losses, learning rate, throughput.
    public var losses: String { "\(run)/losses.csv" }
    /// One row per step, node and op: softmax(alpha) and alpha.
    public var alphas: String { "\(run)/alphas.csv" }
    /// With the profiler: one row per step, the peaks and each layer's.
    public var memory: String { "\(run)/memory.csv" }
    /// In a data-parallel search (`mpirun -np N`): one row per step and rank, its step time,
    /// its time in gradient sums and, with the profiler, its peaks (memory.csv is rank 0's,
    /// in the format a single-process run writes, so runs resume across versions).
    public var ranks: String { "\(run)/ranks.csv" }
    /// One row per verification: errors against their limits.
    public var verification: String { "\(run)/verification.csv" }
    /// One row per step and node: the chosen op, the runner-up, the margin, the entropy.
    public var settling: String { "\(run)/settling.csv" }
    /// Step 1's batch in full storage and in the search's mode (`MemoryReference`).
    public var memoryReference: String { "\(run)/memory-reference.json" }
    /// The HTML report with its charts.
    public var report: String { "\(run)/report.html" }
}

/// The per-step logs of a search, as CSV (one row per step; alphas one row per step,
/// node and op, long format so any tool can pivot it).
final class SearchLogs {
    /// A searched node: its name (`encoder.layer1.split2`) and mixed op.
    struct Node {
        let name: String
        let function: NodeFunction
    }

    static let lossHeader = "step,epoch,train_loss,validation_loss,learning_rate,tokens_per_second,seconds"
    static let alphaHeader = "step,node,op,weight,alpha"
    static let settlingHeader = "step,node,chosen,runner_up,margin,normalized_entropy"
    static let verificationHeader = "step,mode,max_activation_rel_error,max_grad_rel_error,max_grad_scaled_error,loss_difference,"
        + "activation_tolerance,gradient_tolerance,max_float32_error,float64_max_grad_error,float32_allowance,branch_flips,"
        + "largest_flip_margin,causality_max_leak,padding_max_gradient_error,passed"
    static let ranksHeader = "step,rank,step_seconds,sum_seconds,peak_activation_bytes,peak_total_bytes,peak_reserved_bytes"
    static func memoryHeader(layers: [String]) -> String {
        "step,peak_activation_bytes,peak_total_bytes,peak_reserved_bytes,peak_layer,peak_phase," + layers.joined(separator: ",")
    }

    let layers: [String]
    private let lossLog: CSVLog
    private let alphaLog: CSVLog
    private let memoryLog: CSVLog
    private let verificationLog: CSVLog
    private let settlingLog: CSVLog
    private let ranksLog: CSVLog?

    init(_ paths: SearchPaths, nodes: [Node], layers: [String], processes: Int, keepingStepsThrough lastStep: Int?) throws {
        self.layers = layers
        lossLog = try CSVLog(paths.losses, header: Self.lossHeader, keepingStepsThrough: lastStep)
        alphaLog = try CSVLog(paths.alphas, header: Self.alphaHeader, keepingStepsThrough: lastStep)
        memoryLog = try CSVLog(paths.memory, header: Self.memoryHeader(layers: layers), keepingStepsThrough: lastStep)
        verificationLog = try CSVLog(paths.verification, header: Self.verificationHeader, keepingStepsThrough: lastStep)
        settlingLog = try CSVLog(paths.settling, header: Self.settlingHeader, keepingStepsThrough: lastStep)
        ranksLog = processes > 1 || FileManager.default.fileExists(atPath: paths.ranks)
            ? try CSVLog(paths.ranks, header: Self.ranksHeader, keepingStepsThrough: lastStep) : nil
    }

    /// Every rank's figures of `step`, in rank order: step seconds, seconds in gradient sums,
    /// and the three peaks (negative: not profiled).
    func ranks(step: Int, _ figures: [[Double]]) throws {
        for (rank, f) in figures.enumerated() {
            let peaks = f[2...].map { $0 < 0 ? "" : String(Int($0)) }
            try ranksLog?.append([String(step), String(rank), String(format: "%.4f", f[0]), String(format: "%.4f", f[1])] + peaks)
        }
    }

    /// Each node's settling after `step` updates.
    func settling(step: Int, nodes: [NodeSettling]) throws {
        for n in nodes {
            try settlingLog.append([String(step), n.node, n.chosen, n.runnerUp, String(n.margin), String(n.normalizedEntropy)])
        }
    }

    /// From the settling log: the last step at which some node's chosen op changed (0 if
    /// none did; a resumed run counts its stable steps from it as an uninterrupted one
    /// would), and each node's latest choice.
    static func choices(_ paths: SearchPaths) -> (lastChange: Int, chosen: [String: String]) {
        var chosen: [String: String] = [:], last = 0
        for row in CSVLog.rows(paths.settling) where row.count >= 3 {
            guard let step = Int(row[0]) else { continue }
            if let before = chosen[row[1]], before != row[2] { last = step }
            chosen[row[1]] = row[2]
        }
        return (last, chosen)
    }

    func losses(step: Int, epoch: Int, result: BilevelSearch.StepResult, tokensPerSecond: Double, seconds: Double) throws {
        try lossLog.append([String(step), String(epoch), String(result.trainLoss), String(result.validationLoss),
                            String(result.learningRate), String(Int(tokensPerSecond)), String(format: "%.2f", seconds)])
    }

    /// softmax(alpha) (and alpha itself) of every node's every op after `step` updates.
    func alphas(step: Int, nodes: [Node]) throws {
        for node in nodes {
            guard let weights = node.function.weights, let alpha = node.function.alpha?.scalars else { continue }
            for (i, op) in node.function.opNames.enumerated() {
                try alphaLog.append([String(step), node.name, op, String(weights[i]), String(alpha[i])])
            }
        }
    }

    func memory(step: Int, run: ProfileRun) throws {
        let byLayer = Dictionary(run.layers.map { ($0.name, $0.peakActivationBytes) }, uniquingKeysWith: max)
        try memoryLog.append([String(step), String(run.peakActivationBytes), String(run.peakTotalBytes), String(run.peakReservedBytes),
                              run.peakActivationAt.layer,
                              run.peakActivationAt.phase.rawValue] + layers.map { String(byLayer[$0] ?? 0) })
    }

    func verification(step: Int, report: VerificationReport) throws {
        let twin = report.float64Reference
        try verificationLog.append([String(step), report.mode, String(report.maxActivationRelError), String(report.maxGradRelError),
                                    String(report.maxGradScaledError), String(report.lossDifference), String(report.tolerance.activation),
                                    String(report.tolerance.gradient),
                                    String(twin.map { max($0.maxFloat32Error, $0.maxTestedError) } ?? .nan),
                                    String(twin?.maxGradScaledError ?? .nan), String(twin?.allowance ?? .nan),
                                    String(report.branches.flips), String(report.branches.largestMargin),
                                    String(report.causality?.maxLeak ?? .nan), String(report.padding?.maxGradientError ?? .nan),
                                    report.passed ? "true" : "false"])
    }
}
