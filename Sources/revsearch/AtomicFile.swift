import Foundation
import TensorCore

/// JSON reports written atomically (see `AtomicWrite`).
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        try AtomicWrite.write(data, to: path)
    }

    /// Pretty, key-sorted JSON of `value`, written atomically.
    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try write(encoder.encode(value), to: path)
    }
}

/// An error whose message is what the user reads.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
