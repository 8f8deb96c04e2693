import Foundation
import TensorCore

/// A CSV log whose first column is the step, appended and flushed row by row so a killed
/// run keeps every row it wrote. A resumed run first drops the rows after its checkpoint's
/// step (they are about to be computed again), so the log reads as one uninterrupted run.
public final class CSVLog {
    let path: String
    private let handle: FileHandle

    /// Starts the log anew, or with `keepingStepsThrough` keeps the rows up to that step of
    /// an existing log (whose header must be `header`).
    public init(_ path: String, header: String, keepingStepsThrough lastStep: Int? = nil) throws {
        self.path = path
        var contents = header + "\n"
        if let lastStep, let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            var lines = existing.split(separator: "\n", omittingEmptySubsequences: true)
            guard lines.first.map(String.init) == header else {
                throw InputError("\(path): the header is not \"\(header)\"; the log belongs to another run or version")
            }
            lines.removeFirst()
            for line in lines {
                guard let step = Int(line.prefix { $0 != "," }) else { throw InputError("\(path): a row does not start with a step: \"\(line)\"") }
                if step <= lastStep { contents += line + "\n" }
            }
        }
        try AtomicWrite.write(Data(contents.utf8), to: path)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw InputError("\(path): cannot open the log for writing") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    /// Appends one row (fields joined by commas) and flushes it, so a killed run keeps every row written.
    public func append(_ fields: [String]) throws {
        try handle.write(contentsOf: Data((fields.joined(separator: ",") + "\n").utf8))
    }

    /// The rows (header dropped) split into fields.
    public static func rows(_ path: String) -> [[String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }
}
