import Translation
import Verifier

/// What an instrumented run reports while it works. The CLI's progress line is one
/// observer; a test, a notebook or a dashboard can be another. Events arrive in order, on
/// the thread that runs the search or training; a run without an observer reports nothing.
public protocol RunObserver: AnyObject {
    func observe(_ event: RunEvent)
}

public enum RunEvent {
    /// Set up and about to take its first step: a one-line summary of the machine, the
    /// data and the model; the step it resumes from, if it does.
    case started(summary: String, resumedAtStep: Int?)
    /// A search step finished (its figures are also in RUN/losses.csv).
    case searchStep(SearchStepEvent)
    /// The verifier compared the search's backprop mode with full storage at `step`.
    case verified(step: Int, report: VerificationReport)
    /// A training step finished (its figures are also in RUN/train.csv).
    case trainingStep(TrainingStepEvent)
    /// A training measured its validation loss after `step` updates.
    case validated(step: Int, loss: ValidationLoss)
}

public struct SearchStepEvent {
    public let step: Int
    public let maxSteps: Int
    public let epoch: Int
    public let trainLoss: Double
    public let validationLoss: Double
    public let tokensPerSecond: Double
    public let learningRate: Double
    /// With the profiler attached: the step's peak activation bytes.
    public let peakActivationBytes: Int?
    /// Until the step limit or the time limit, whichever comes first, at the pace so far.
    public let secondsRemaining: Double
}

public struct TrainingStepEvent {
    public let step: Int
    public let maxSteps: Int
    public let epoch: Int
    public let loss: Double
    public let tokensPerSecond: Double
    public let learningRate: Double
    public let secondsRemaining: Double
}
