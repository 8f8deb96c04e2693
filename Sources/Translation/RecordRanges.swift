/// Range checks of the numbers a checkpoint record carries, made when it is loaded: the
/// checksum proves a file is the one written, not that a hand-made or older-format file
/// holds sane values (a negative step or batch index would trap deep in the batcher).
/// Problems name the field as the JSON spells it.
public struct RecordRanges {
    public private(set) var problems: [String] = []
    public init() {}

    public mutating func whole(_ field: String, _ value: Int, _ range: ClosedRange<Int>) {
        if !range.contains(value) { problems.append("\(field): expected a whole number in \(range.lowerBound)...\(range.upperBound), found \(value)") }
    }

    /// A finite number in `range`.
    public mutating func number<R: RangeExpression<Double>>(_ field: String, _ value: Double, _ range: R, _ expected: String) {
        if !value.isFinite || !range.contains(value) { problems.append("\(field): expected \(expected), found \(value)") }
    }

    /// Any other problem, already worded.
    public mutating func add(_ problem: String) { problems.append(problem) }

    /// A file the record names: a plain name inside the run directory, so that a record
    /// cannot point a resume at another run's files (no "/", no leading ".").
    public mutating func fileName(_ field: String, _ value: String) {
        if value.isEmpty || value.contains("/") || value.hasPrefix(".") {
            problems.append("\(field): expected a file name inside the run directory, found \"\(value)\"")
        }
    }

    /// What every checkpoint record holds: step, epoch and batch index (counts from zero)
    /// and the names of its weights and vocabulary files.
    public mutating func record(step: Int, epoch: Int, batchIndex: Int, weights: String, vocabulary: String) {
        whole("step", step, 0...1_000_000_000)
        whole("epoch", epoch, 0...1_000_000_000)
        whole("batch_index", batchIndex, 0...1_000_000_000)
        fileName("weights", weights)
        fileName("vocabulary", vocabulary)
    }

    /// Throws one error naming the file and every field out of range.
    public func check(_ path: String, what: String) throws {
        guard problems.isEmpty else { throw CheckpointError("\(path): the \(what) holds values out of range: " + problems.joined(separator: "; ")) }
    }
}

extension TrainingOptions {
    func checkRanges(_ ranges: inout RecordRanges) {
        ranges.whole("options.max_tokens", maxTokens, 1...(1 << 24))
        ranges.number("options.peak_learning_rate", peakLearningRate, Double.leastNonzeroMagnitude...10, "a learning rate in (0, 10]")
        ranges.whole("options.warmup_steps", warmupSteps, 0...1_000_000_000)
        ranges.number("options.label_smoothing", labelSmoothing, 0..<1, "a rate in [0, 1)")
        ranges.number("options.clip_norm", clipNorm, 0...1e12, "a norm in [0, 1e12] (0: no clipping)")
        ranges.whole("options.max_steps", maxSteps, 1...1_000_000_000)
        ranges.number("options.max_minutes", maxMinutes, 0...1e7, "minutes in [0, 1e7]")
        ranges.whole("options.validate_every", validateEvery, 1...1_000_000_000)
        ranges.whole("options.checkpoint_every", checkpointEvery, 1...1_000_000_000)
    }
}
