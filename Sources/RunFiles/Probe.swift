import Foundation

/// A declarative instrumented scenario (a file under Probes/): which scenario to run,
/// with which parameters, and what its metrics must satisfy. Format (README, "Probes"):
///
///     { "name": "...", "description": "...", "scenario": "gradcheck",
///       "parameters": { ... },
///       "expect": [ { "metric": "passed", "equals": true },
///                   { "metric": "max_rel_error", "at_most": 1e-3 } ] }
public struct Probe {
    public let file: String
    public let name: String
    public let description: String
    public let scenario: String
    public let parameters: JSONObjectReader
    public let expectations: [Expectation]

    public struct Expectation {
        public enum Comparison { case equals(Double), atMost(Double), atLeast(Double) }
        public let metric: String
        public let comparison: Comparison

        public func holds(_ value: Double) -> Bool {
            switch comparison {
            case .equals(let x): value == x
            case .atMost(let x): value <= x
            case .atLeast(let x): value >= x
            }
        }

        public var text: String {
            switch comparison {
            case .equals(let x): "\(metric) == \(x)"
            case .atMost(let x): "\(metric) <= \(x)"
            case .atLeast(let x): "\(metric) >= \(x)"
            }
        }
    }

    public init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FileFormatError("\(file): cannot read the probe file")
        }
        var root = try JSONObjectReader(JSONValue.parse(data, file: file), file: file)
        self.file = file
        name = try root.requiredString("name")
        description = try root.string("description") ?? ""
        scenario = try root.requiredString("scenario")
        parameters = try root.object("parameters") ?? JSONObjectReader(.object([:]), file: file, path: "parameters")
        guard let expect = try root.array("expect"), !expect.isEmpty else {
            throw root.error("expect", "missing or empty (a probe must assert something)")
        }
        expectations = try expect.enumerated().map { i, item in
            var e = try JSONObjectReader(item, file: file, path: "expect[\(i)]")
            let metric = try e.requiredString("metric")
            var comparisons: [Expectation.Comparison] = []
            if let b = try e.bool("equals") { comparisons.append(.equals(b ? 1 : 0)) }
            if let x = try e.number("at_most") { comparisons.append(.atMost(x)) }
            if let x = try e.number("at_least") { comparisons.append(.atLeast(x)) }
            try e.finish()
            guard comparisons.count == 1 else {
                throw FileFormatError("\(file): field 'expect[\(i)]': expected exactly one of equals (boolean), at_most, at_least")
            }
            return Expectation(metric: metric, comparison: comparisons[0])
        }
        try root.finish()
    }
}
