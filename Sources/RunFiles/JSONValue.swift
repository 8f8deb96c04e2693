import Foundation

/// Any JSON value, decoded without a schema so that configuration readers can report
/// unknown fields and wrong types by their path (`expect[1].at_most`) instead of
/// JSONDecoder's generic messages.
public enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses `data` read from `file`; a syntax error names the file.
    public static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw FileFormatError("\(file): not valid JSON: \(detail ?? context.debugDescription)")
        } catch {
            // Foundation's reader refuses numbers beyond Double's range without saying so.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw FileFormatError("\(file): not valid JSON\(detail.map { ": \($0)" } ?? " (or it holds a number beyond Double's range, such as 1e400)")")
        }
    }

    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object being read field by field; every error names the file and the field
/// path, and `finish()` rejects fields nobody asked for (a typo must not pass silently).
public struct JSONObjectReader {
    public let file: String
    public let path: String
    private let fields: [String: JSONValue]
    private var used = Set<String>()

    public init(_ value: JSONValue, file: String, path: String = "") throws {
        guard case .object(let fields) = value else {
            throw FileFormatError("\(file): \(path.isEmpty ? "the top level" : path) must be an object, found \(value.typeName)")
        }
        self.file = file
        self.path = path
        self.fields = fields
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func error(_ key: String, _ message: String) -> FileFormatError {
        FileFormatError("\(file): field '\(fieldPath(key))': \(message)")
    }

    public mutating func value(_ key: String) -> JSONValue? {
        used.insert(key)
        return fields[key]
    }

    public mutating func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw error(key, "expected a string, found \(v.typeName)") }
        return s
    }

    /// A path field: absolute as given, relative to the directory of the file it is read
    /// from (a probe names its corpus relative to itself); `fallback` when absent.
    public mutating func path(_ key: String, default fallback: String) throws -> String {
        let value = try string(key) ?? fallback
        guard !value.isEmpty else { throw error(key, "expected a path, found an empty string") }
        if value.hasPrefix("/") { return value }
        return URL(fileURLWithPath: file).absoluteURL.deletingLastPathComponent().appendingPathComponent(value).standardized.path
    }

    public mutating func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw error(key, "missing (expected a string)") }
        return s
    }

    public mutating func number(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard case .number(let d) = v else { throw error(key, "expected a number, found \(v.typeName)") }
        return d
    }

    public mutating func int(_ key: String) throws -> Int? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), abs(d) < 1e15 else { throw error(key, "expected a whole number, found \(d)") }
        return Int(d)
    }

    /// A whole number that must lie in `range`; the error names the field and the range.
    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let n = try int(key) else { return nil }
        guard range.contains(n) else { throw error(key, "expected a whole number in \(range.lowerBound)...\(range.upperBound), found \(n)") }
        return n
    }

    /// A number that must lie in `range` (NaN never does).
    public mutating func number<R: RangeExpression<Double>>(_ key: String, in range: R, expected: String) throws -> Double? {
        guard let d = try number(key) else { return nil }
        guard range.contains(d) else { throw error(key, "expected \(expected), found \(d)") }
        return d
    }

    public mutating func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw error(key, "expected true or false, found \(v.typeName)") }
        return b
    }

    public mutating func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw error(key, "expected an array of strings, found \(v.typeName)") }
        return try items.enumerated().map { i, item in
            guard case .string(let s) = item else { throw error("\(key)[\(i)]", "expected a string, found \(item.typeName)") }
            return s
        }
    }

    public mutating func ints(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw error(key, "expected an array of whole numbers, found \(v.typeName)") }
        return try items.enumerated().map { i, item in
            guard case .number(let d) = item, d == d.rounded(), abs(d) < 1e15 else {
                throw error("\(key)[\(i)]", "expected a whole number, found \(item.typeName)")
            }
            return Int(d)
        }
    }

    public mutating func array(_ key: String) throws -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw error(key, "expected an array, found \(v.typeName)") }
        return items
    }

    public mutating func object(_ key: String) throws -> JSONObjectReader? {
        guard let v = value(key) else { return nil }
        return try JSONObjectReader(v, file: file, path: fieldPath(key))
    }

    /// Fails on any field that was never read.
    public func finish() throws {
        let unknown = Set(fields.keys).subtracting(used).sorted()
        if let first = unknown.first {
            throw FileFormatError("\(file): unknown field '\(fieldPath(first))' (known here: \(used.sorted().joined(separator: ", ")))")
        }
    }
}
