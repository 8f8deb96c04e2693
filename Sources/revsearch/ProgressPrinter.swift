import Foundation
import InstrumentedRun
import Profiler
import Translation
import Verifier

/// A progress line: rewritten in place on a terminal, printed every `quietSeconds`
/// otherwise (CI logs stay short).
final class ProgressLine {
    let quietSeconds: Double
    let enabled: Bool
    let interactive = isatty(STDOUT_FILENO) != 0
    private var last = Date.distantPast
    private var open = false

    init(quietSeconds: Double, enabled: Bool) {
        self.quietSeconds = quietSeconds
        self.enabled = enabled
    }

    func update(_ line: String) {
        guard enabled, Date().timeIntervalSince(last) >= (interactive ? 0.5 : quietSeconds) else { return }
        if interactive { print("\r\(line)   ", terminator: "") } else { print(line) }
        open = interactive
        fflush(nil)
        last = Date()
    }

    /// A line of its own (not overwritten by the next update).
    func message(_ line: String) {
        guard enabled else { return }
        end()
        print(line)
        fflush(nil)
    }

    func end() {
        if open { print("") }
        open = false
    }
}

/// The CLI's observer of an instrumented run: the start summary, a progress line per step
/// (with ETA), verification and validation results on lines of their own.
final class ProgressPrinter: RunObserver {
    let progress: ProgressLine

    init(quietSeconds: Double = 30) {
        progress = ProgressLine(quietSeconds: quietSeconds, enabled: true)
    }

    func observe(_ event: RunEvent) {
        switch event {
        case .started(let summary, let resumedAt):
            progress.message(summary + (resumedAt.map { "; resuming at step \($0)" } ?? ""))
        case .searchStep(let e):
            let memory = e.peakActivationBytes.map { " | act \(SVGChart.bytesText(Double($0)))" } ?? ""
            progress.update("step \(e.step)/\(e.maxSteps) | epoch \(e.epoch) | train \(fixed(e.trainLoss, 3)) | val \(fixed(e.validationLoss, 3)) "
                            + "| \(Int(e.tokensPerSecond)) tok/s | lr \(sci(e.learningRate))\(memory) | margin \(fixed(e.smallestMargin, 3)) "
                            + "(stable \(e.stableSteps)) | ETA \(duration(e.secondsRemaining))")
        case .verified(let step, let report):
            progress.message(report.line(step: step))
        case .trainingStep(let e):
            progress.update("step \(e.step) | epoch \(e.epoch) | loss \(fixed(e.loss, 3)) | \(Int(e.tokensPerSecond)) tok/s "
                            + "| lr \(sci(e.learningRate)) | ETA \(duration(e.secondsRemaining))")
        case .validated(let step, let loss):
            progress.message("step \(step): \(describe(loss))")
        }
    }
}

/// "validation loss 3.1416 (perplexity 23.14)", with the share of the split measured when
/// the time limit cut it short.
func describe(_ v: ValidationLoss) -> String {
    guard let value = v.value else { return "validation loss not measured: --max-minutes reached before its first batch" }
    let figure = "validation loss \(fixed(value, 4)) (perplexity \(fixed(exp(value), 2)))"
    return v.complete ? figure : "\(figure) over \(v.batches) of \(v.of) validation batches: --max-minutes reached"
}
