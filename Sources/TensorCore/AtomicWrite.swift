import Foundation

/// Writes files so that a reader, or a crash, never sees half a file: the bytes go to a
/// temporary file in the same directory, flushed to the disk (fsync), which is then renamed
/// over the target (rename is atomic within a file system) and the directory flushed, so
/// that even a power cut leaves the old file or the new one, not an empty one.
public enum AtomicWrite {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            // Foundation says "a file with the same name already exists"; name the file.
            var ancestor = directory, isDirectory: ObjCBool = false
            while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
                ancestor = ancestor.deletingLastPathComponent()
            }
            let reason = isDirectory.boolValue || ancestor.path == "/" ? IOErrorText.describe(error) : "\(ancestor.path) is a file, not a directory"
            throw AtomicWriteError(path: path, reason: reason)
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        func failure() -> POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        do {
            let file = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard file >= 0 else { throw failure() }
            defer { close(file) }
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(file, base + offset, bytes.count - offset)
                    guard written > 0 else { throw failure() }
                    offset += written
                }
            }
            guard fsync(file) == 0 else { throw failure() }
            guard rename(temporary.path, url.path) == 0 else { throw failure() }
            let folder = open(directory.path, O_RDONLY | O_CLOEXEC)
            if folder >= 0 { _ = fsync(folder); close(folder) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            // The target, not the temporary file, is what the user knows.
            throw AtomicWriteError(path: path, reason: IOErrorText.describe(error))
        }
    }
}

/// A file that could not be written: the path the caller gave and the cause in the
/// system's words.
public struct AtomicWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
}
