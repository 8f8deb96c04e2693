import Foundation
import TensorCore

/// A checkpoint record (the JSON of a training or a search) that names its weights file and
/// can carry that file's SHA-256.
public protocol ChecksummedRecord: Codable {
    /// The weights file, relative to the record's directory, and its SHA-256.
    var weights: String { get }
    var weightsSHA256: String? { get }
}

/// How a checkpoint reaches the disk as one atomic commit, and how it is read back only
/// whole. The weights go to a file named for the step (`checkpoint-step000120.safetensors`),
/// written atomically but not yet referenced; then the JSON, which names that file and its
/// SHA-256, replaces the previous JSON by one rename: the commit point. A kill before the
/// rename leaves the previous JSON naming the previous weights, still on disk; a kill after
/// leaves the new pair. Weights no JSON names any more are removed after the commit (and by
/// `sweep` at the next start, with the temporary files of a killed write). Reading checks the
/// JSON's own checksum (its first field, the SHA-256 of the file's other bytes) and the
/// weights' digest, so a changed byte in either is refused.
/// The one field every checkpoint JSON starts its identity with.
private struct FormatField: Decodable { let format: String }

public enum CheckpointCommit {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    /// Test hook: seconds to sleep between the two writes and before the sweep, from
    /// `REVSEARCH_TEST_CHECKPOINT_PAUSE_MS`, so that `scripts/crash-consistency` can land
    /// its kills inside a checkpoint write. Zero unless set.
    static let pause = (ProcessInfo.processInfo.environment["REVSEARCH_TEST_CHECKPOINT_PAUSE_MS"].flatMap(Double.init) ?? 0) / 1000

    /// The weights file of `name` at `step`.
    public static func weightsFile(name: String, step: Int) -> String {
        "\(name)-step\(String(format: "%06d", step)).safetensors"
    }

    /// Writes `tensors` (whose file name `record.weights` gives), then `record` as
    /// `<directory>/<name>.json` with both checksums filled in, then removes older weights.
    public static func write<R: ChecksummedRecord>(_ record: R, tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                                                   directory: String, name: String,
                                                   setDigest: (inout R, String) -> Void) throws {
        let weights = try SafeTensors.encode(tensors, metadata: metadata)
        let weightsPath = "\(directory)/\(record.weights)"
        try AtomicWrite.write(weights, to: weightsPath)
        if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        var sealed = record
        setDigest(&sealed, SHA256.hex(weights))
        let jsonPath = "\(directory)/\(name).json"
        try AtomicWrite.write(seal(try encoder().encode(Stamped(sealed))), to: jsonPath)
        if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        sweep(directory: directory, name: name, keeping: record.weights)
    }

    /// Removes what a killed write may have left in `directory`: temporary files, and
    /// weights files of `name` other than `keeping` (the one the committed JSON names).
    public static func sweep(directory: String, name: String, keeping: String?) {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for file in files {
            let stale = (file.hasPrefix(".") && file.contains(".tmp-"))
                || (file.hasPrefix("\(name)-step") && file.hasSuffix(".safetensors") && file != keeping)
            if stale { try? FileManager.default.removeItem(atPath: "\(directory)/\(file)") }
        }
    }

    static let opening = Data("{\n".utf8)
    static let checksumKey = Data("{\n  \"checksum\" : \"".utf8)

    /// `{"checksum": "<SHA-256 of the other bytes>", ...}`: the pretty-printed JSON `body`
    /// with its checksum as the first field, so that a reader can hash exactly the bytes
    /// that were written, whitespace included.
    static func seal(_ body: Data) -> Data {
        precondition(body.starts(with: opening), "a pretty-printed JSON object starts with {\\n")
        return checksumKey + Data("\(SHA256.hex(body))\",\n".utf8) + body.dropFirst(opening.count)
    }

    /// The checksum a sealed file carries and the bytes it covers; nil if it carries none.
    static func unseal(_ data: Data) -> (checksum: String, body: Data)? {
        let end = checksumKey.count + 64
        guard data.starts(with: checksumKey), data.count >= end + 3, data[data.startIndex + end ..< data.startIndex + end + 3] == Data("\",\n".utf8) else { return nil }
        return (String(decoding: data[data.startIndex + checksumKey.count ..< data.startIndex + end], as: UTF8.self),
                opening + data.dropFirst(end + 3))
    }

    /// Decodes a record from `path`, whose `format` must be one of `formats`, and checks its
    /// own checksum (records of formats older than checksums pass `requireChecksum: false`).
    public static func read<R: ChecksummedRecord>(_ type: R.Type, from path: String, what: String, formats: [String],
                                                  requireChecksum: (R) -> Bool) throws -> R {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CheckpointError("\(path): cannot read the \(what): is a directory")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError("\(path): cannot read the \(what): \(IOErrorText.describe(error))")
        }
        // A checkpoint of the other kind (a search's given to translate) is named as such.
        let format = try? JSONDecoder().decode(FormatField.self, from: data).format
        if let format, !formats.contains(format) {
            throw CheckpointError("\(path): a '\(format)' file, not a \(what) (expected one of \(formats.joined(separator: ", ")))")
        }
        let record: R
        do { record = try JSONDecoder().decode(R.self, from: data) } catch {
            // With its format field, the file is a checkpoint with a bad field; without, not one at all.
            throw CheckpointError("\(path): \(format == nil ? "not a RevSearch" : "invalid") \(what): \(DecodingErrorText.describe(error))")
        }
        guard let (stored, body) = unseal(data) else {
            if requireChecksum(record) { throw CheckpointError("\(path): the \(what) does not start with its checksum field") }
            return record
        }
        guard SHA256.hex(body) == stored else {
            throw CheckpointError("\(path): the \(what)'s contents do not match its checksum: the file was edited or damaged")
        }
        return record
    }

    /// Reads the weights `record` names, checking their SHA-256 when the record has one,
    /// that every `required` tensor is there and that every tensor there is `allowed`.
    public static func readWeights<R: ChecksummedRecord>(of record: R, directory: String, required: Set<String>,
                                                         allowed: Set<String>) throws -> SafeTensors.Contents {
        let file = "\(directory)/\(record.weights)"
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw CheckpointError("\(file): cannot read the checkpoint's weights: \(IOErrorText.describe(error))")
        }
        if let digest = record.weightsSHA256, SHA256.hex(data) != digest {
            throw CheckpointError("\(file): the weights do not match the SHA-256 their checkpoint records: the file was changed or damaged")
        }
        let contents = try SafeTensors.decode(data, file: file)
        let names = Set(contents.tensors.map(\.name))
        if let extra = names.subtracting(allowed).sorted().first {
            throw CheckpointError("\(file): tensor '\(extra)' is not part of this checkpoint's model or optimizer state")
        }
        if let missing = required.subtracting(names).sorted().first {
            throw CheckpointError("\(file): tensor '\(missing)' is missing")
        }
        return contents
    }
}
