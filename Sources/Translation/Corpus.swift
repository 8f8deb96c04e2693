import CZlib
import Foundation

/// Sentence pairs read from line-aligned files.
public struct ParallelCorpus: Sendable {
    public let source: [String]
    public let target: [String]
    /// Pairs dropped because the source or the target line was empty.
    public let skippedEmpty: Int
    public var count: Int { source.count }
}

/// Reads Multi30k-style corpora: `DIR/<split>.<lang>`, plain or gzip (`.gz`), UTF-8, one
/// sentence a line, the two languages line-aligned.
public enum CorpusReader {
    /// The file of `split` in `language` under `directory`: plain if present, else `.gz`.
    public static func path(directory: String, split: String, language: String) throws -> String {
        let plain = (directory as NSString).appendingPathComponent("\(split).\(language)")
        for candidate in [plain, plain + ".gz"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw CorpusError.missing(split: split, language: language, tried: [plain, plain + ".gz"])
    }

    /// Source and target sentences of `split`; empty pairs are skipped and counted.
    public static func load(directory: String, split: String, source: String, target: String) throws -> ParallelCorpus {
        let sourcePath = try path(directory: directory, split: split, language: source)
        let targetPath = try path(directory: directory, split: split, language: target)
        let sourceLines = try readLines(sourcePath)
        let targetLines = try readLines(targetPath)
        guard sourceLines.count == targetLines.count else {
            throw CorpusError.lineCountMismatch(sourcePath, sourceLines.count, targetPath, targetLines.count)
        }
        var sources: [String] = [], targets: [String] = [], skipped = 0
        for (s, t) in zip(sourceLines, targetLines) {
            let (a, b) = (s.trimmingCharacters(in: .whitespaces), t.trimmingCharacters(in: .whitespaces))
            if a.isEmpty || b.isEmpty { skipped += 1; continue }
            sources.append(a)
            targets.append(b)
        }
        return ParallelCorpus(source: sources, target: targets, skippedEmpty: skipped)
    }

    /// The lines of a plain or gzip file (zlib reads both), without line terminators; "-"
    /// is standard input (named so in errors).
    public static func readLines(_ path: String) throws -> [String] {
        let data = try readAll(path)
        let path = path == "-" ? "standard input" : path
        guard !data.isEmpty else { throw CorpusError.empty(path) }
        var lines: [String] = []
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            lineNumber += 1
            var slice = data[start..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            guard let line = String(data: slice, encoding: .utf8) else { throw CorpusError.invalidUTF8(path, line: lineNumber) }
            lines.append(line)
            start = end == data.endIndex ? end : data.index(after: end)
        }
        return lines
    }

    /// The decompressed bytes of `path` (gzip or plain, detected by zlib); "-" is standard input.
    static func readAll(_ path: String) throws -> Data {
        let file: gzFile
        if path == "-" {
            // A duplicate, so closing the stream leaves the process's standard input open.
            guard let input = gzdopen(dup(STDIN_FILENO), "rb") else { throw CorpusError.unreadable("standard input", reason: String(cString: strerror(errno))) }
            file = input
        } else {
            // The reason in the system's words: a directory given for a file, a file without
            // read permission. A FIFO is read like any file: it waits for its writer, as cat does.
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw CorpusError.unreadable(path, reason: "No such file or directory") }
            guard !isDirectory.boolValue else { throw CorpusError.unreadable(path, reason: "is a directory, expected a file of one sentence per line") }
            guard access(path, R_OK) == 0 else { throw CorpusError.unreadable(path, reason: String(cString: strerror(errno))) }
            guard let opened = gzopen(path, "rb") else { throw CorpusError.unreadable(path, reason: String(cString: strerror(errno))) }
            file = opened
        }
        defer { gzclose(file) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if read < 0 { throw CorpusError.corrupt(path == "-" ? "standard input" : path) }
            if read == 0 { break }
            data.append(contentsOf: chunk[0..<Int(read)])
        }
        return data
    }
}

public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(split: String, language: String, tried: [String])
    case unreadable(String, reason: String)
    case corrupt(String)
    case empty(String)
    case invalidUTF8(String, line: Int)
    case lineCountMismatch(String, Int, String, Int)

    public var description: String {
        switch self {
        case .missing(let split, let language, let tried):
            "no \(split) file for language '\(language)' (looked for \(tried.joined(separator: " and ")))"
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .corrupt(let path): "\(path): the gzip stream is corrupt or truncated (or the file cannot be read)"
        case .empty(let path): "\(path): the file is empty"
        case .invalidUTF8(let path, let line): "\(path): line \(line) is not valid UTF-8"
        case .lineCountMismatch(let a, let na, let b, let nb):
            "the files are not line-aligned: \(a) has \(na) lines, \(b) has \(nb)"
        }
    }
}
