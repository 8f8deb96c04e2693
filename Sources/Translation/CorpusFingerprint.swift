import Foundation
import TensorCore

/// SHA-256 fingerprints a checkpoint records of what its run was built from, so that a
/// `--resume` with another corpus or vocabulary is refused instead of silently continued.
public enum CorpusFingerprint {
    /// Of a corpus's sentence pairs as read (the same text compressed or not gives the
    /// same fingerprint): each pair as source, tab, target, newline.
    public static func pairs(_ corpus: ParallelCorpus) -> String {
        var hasher = SHA256()
        for (source, target) in zip(corpus.source, corpus.target) { hasher.update(Data("\(source)\t\(target)\n".utf8)) }
        return hasher.finalizeHex()
    }

    /// Of a file's bytes; nil when the file does not exist.
    public static func file(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do { return SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw CheckpointError("\(path): cannot read: \(IOErrorText.describe(error))")
        }
    }
}
