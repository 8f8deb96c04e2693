import Translation
import Verifier

/// What an instrumented run reports while it works. The CLI's progress line is one
/// observer; a test, a notebook or a dashboard can be another. Events arrive in order, on
/// the thread that runs the search or training; a run without an observer reports nothing.
public protocol RunObserver: AnyObject {
    func observe(_ event: RunEvent)
}

/// One thing a run reports, in the order it happens.
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

/// The figures of one finished search step.
public struct SearchStepEvent {
    /// Search steps done (one theta and one alpha update each).
    public let step: Int
    /// The step limit of the run.
    public let maxSteps: Int
    /// Passes over theta's half of the training pairs so far.
    public let epoch: Int
    /// The loss of theta's batch (label-smoothed cross-entropy per target token).
    public let trainLoss: Double
    /// The loss of alpha's batch, from the other half of the training pairs.
    public let validationLoss: Double
    /// Target tokens of both batches over the step's wall-clock time.
    public let tokensPerSecond: Double
    /// Theta's learning rate at this step.
    public let learningRate: Double
    /// With the profiler attached: the step's peak activation bytes.
    public let peakActivationBytes: Int?
    /// The smallest margin of a node's chosen op over its runner-up (softmax weights).
    public let smallestMargin: Double
    /// Steps since a node's chosen op last changed.
    public let stableSteps: Int
    /// Until the step limit or the time limit, whichever comes first, at the pace so far.
    public let secondsRemaining: Double
}

/// The figures of one finished training step.
public struct TrainingStepEvent {
    /// Updates done.
    public let step: Int
    /// The update limit of the run.
    public let maxSteps: Int
    /// Passes over the training pairs so far.
    public let epoch: Int
    /// The step's label-smoothed loss per target token.
    public let loss: Double
    /// Target tokens of the step's batch over its wall-clock time.
    public let tokensPerSecond: Double
    /// The learning rate at this step (warm-up, then inverse square root).
    public let learningRate: Double
    /// Until the step limit or the time limit, whichever comes first, at the pace so far.
    public let secondsRemaining: Double
}
