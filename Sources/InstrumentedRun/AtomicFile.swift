import Foundation
import RunFiles
import TensorCore

/// JSON reports written atomically (see `AtomicWrite`).
public enum AtomicFile {
    /// Writes `data` to `path` atomically: a reader sees the old file or the new one, never a mix.
    public static func write(_ data: Data, to path: String) throws {
        try AtomicWrite.write(data, to: path)
    }

    /// A report as JSON (`ReportJSON`: non-finite values as null), written atomically; `-`
    /// is standard output.
    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let data = try ReportJSON.encode(value)
        if path == "-" {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            try write(data, to: path)
        }
    }
}
