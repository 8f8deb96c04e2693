import ArgumentParser
import TensorCore

/// The valid ranges of numeric command-line options, checked in each command's
/// `validate()` before anything runs: one message form ("--splits: expected a whole number
/// in 2...64, found 0"), exit status 64 as every usage error. Upper limits keep sizes far
/// from overflow; whether a model fits in memory is `ModelConfig.validate`'s to say.
enum OptionRanges {
    static func whole(_ option: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("--\(option): expected a whole number in \(range.lowerBound)...\(range.upperBound), found \(value)")
        }
    }

    static func whole(_ option: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
        if let value { try whole(option, value, range) }
    }

    /// A finite number in `range` (NaN and infinities never are).
    static func number<R: RangeExpression<Double>>(_ option: String, _ value: Double, _ range: R, _ expected: String) throws {
        guard value.isFinite, range.contains(value) else { throw ValidationError("--\(option): expected \(expected), found \(value)") }
    }

    static func number<R: RangeExpression<Double>>(_ option: String, _ value: Double?, _ range: R, _ expected: String) throws {
        if let value { try number(option, value, range, expected) }
    }

    static func dropout(_ value: Double?) throws { try number("dropout", value, 0..<1, "a rate in [0, 1)") }
    static func rate(_ option: String, _ value: Double) throws { try number(option, value, Double.leastNonzeroMagnitude...10, "a learning rate in (0, 10]") }
    static func threads(_ value: Int) throws { try whole("threads", value, 1...1024) }
    static func steps(_ option: String, _ value: Int, from lower: Int = 1) throws { try whole(option, value, lower...1_000_000_000) }
    static func width(_ option: String, _ value: Int?) throws { try whole(option, value, 1...SizeLimits.dimension) }
    static func layers(_ option: String, _ value: Int?) throws { try whole(option, value, 1...SizeLimits.depth) }
    static func minutes(_ value: Double) throws { try number("max-minutes", value, 0...1e7, "minutes in [0, 1e7] (0: no limit)") }
    static func merges(_ value: Int) throws { try whole("merges", value, 0...10_000_000) }
    static func tokens(_ option: String, _ value: Int) throws { try whole(option, value, 1...(1 << 24)) }

    /// A synthetic batch of `batch` sentences of `length` positions: each in 1...65536 and
    /// at most 2^20 tokens together, far above what a profile or a check needs, far below
    /// what exhausts memory in the first embedding.
    static func syntheticBatch(batch: Int, length: Int) throws {
        try whole("batch", batch, 1...65536)
        try whole("length", length, 1...65536)
        guard batch * length <= 1 << 20 else {
            throw ValidationError("--batch \(batch) x --length \(length): at most 1048576 tokens in a synthetic batch")
        }
    }
}
