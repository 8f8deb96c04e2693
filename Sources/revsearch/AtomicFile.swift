import Foundation
import TensorCore

/// JSON reports written atomically (see `AtomicWrite`).
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        try AtomicWrite.write(data, to: path)
    }

    /// Pretty, key-sorted JSON of `value`, written atomically; `-` is standard output.
    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(value)
        if path == "-" {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            try write(data, to: path)
        }
    }
}

/// An error whose message is what the user reads.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
