import Foundation

/// The safetensors format (the Hugging Face library's): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range (plus an optional
/// `__metadata__` string map), then the raw little-endian data. Used for checkpoints and
/// for the op test vectors other frameworks check against.
public enum SafeTensors {
    /// Tensors in file order, and the metadata map.
    public struct Contents {
        public let tensors: [(name: String, tensor: Tensor)]
        public let metadata: [String: String]

        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    /// The bytes of a safetensors file holding `tensors` (in this order) and `metadata`.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            precondition(header[name] == nil && name != "__metadata__", "duplicate tensor name '\(name)'")
            let bytes = tensor.count * tensor.dtype.size
            header[name] = ["dtype": tensor.dtype == .float32 ? "F32" : "F64", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference
        // implementation does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in tensors {
            // Little-endian on every platform this runs on (x86-64, arm64).
            data.append(Data(bytes: tensor.buffer.raw, count: tensor.count * tensor.dtype.size))
        }
        return data
    }

    /// Writes atomically: a temporary file in the same directory, then a rename, so a crash
    /// never leaves half a file under the real name.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        let data = try encode(tensors, metadata: metadata)
        try AtomicWrite.write(data, to: path)
    }

    /// Reads and validates a file; every problem is an error naming the file and, where
    /// one is at fault, the tensor.
    public static func read(_ path: String, category: MemoryCategory? = nil) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(file: path, tensor: nil, message: "cannot read the file (missing or unreadable)")
        }
        return try decode(data, file: path, category: category)
    }

    public static func decode(_ data: Data, file: String, category: MemoryCategory? = nil) throws -> Contents {
        func fail(_ message: String, _ tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, message: message)
        }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, fewer than the 8-byte header length") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("truncated: the header claims \(headerLength) bytes but only \(data.count - 8) follow")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let map = raw as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = map
        }
        let bodyStart = 8 + Int(headerLength)
        let bodyLength = data.count - bodyStart
        var entries: [(name: String, begin: Int, end: Int, dtype: DType, shape: [Int])] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any] else { throw fail("the header entry is not an object", name) }
            guard let dtypeName = entry["dtype"] as? String else { throw fail("missing dtype", name) }
            let dtype: DType
            switch dtypeName {
            case "F32": dtype = .float32
            case "F64": dtype = .float64
            default: throw fail("dtype \(dtypeName) is not supported (expected F32 or F64)", name)
            }
            guard let shape = entry["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("shape must be a list of non-negative integers", name)
            }
            guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("data_offsets must be [begin, end] with 0 <= begin <= end", name)
            }
            // Products of sizes read from the file are checked: a shape such as
            // [2^62, 4] must be refused, not overflow.
            let product = shape.reduce((value: 1, overflow: false)) { partial, n in
                let next = partial.value.multipliedReportingOverflow(by: n)
                return (next.partialValue, partial.overflow || next.overflow)
            }
            let bytes = product.value.multipliedReportingOverflow(by: dtype.size)
            guard !product.overflow, !bytes.overflow else { throw fail("shape \(shape) is too large to address", name) }
            let expected = bytes.partialValue
            guard offsets[1] - offsets[0] == expected else {
                throw fail("shape \(shape) of \(dtypeName) needs \(expected) bytes, data_offsets span \(offsets[1] - offsets[0])", name)
            }
            guard offsets[1] <= bodyLength else {
                throw fail("truncated: data ends at byte \(offsets[1]) of a \(bodyLength)-byte body", name)
            }
            entries.append((name, offsets[0], offsets[1], dtype, shape))
        }
        entries.sort { $0.begin < $1.begin }
        var position = 0
        for entry in entries {
            guard entry.begin == position else {
                throw fail(entry.begin < position ? "data overlaps the previous tensor's" : "a gap of \(entry.begin - position) bytes precedes the data", entry.name)
            }
            position = entry.end
        }
        guard position == bodyLength else { throw fail("\(bodyLength - position) bytes of trailing data after the last tensor") }
        let tensors = entries.map { entry -> (name: String, tensor: Tensor) in
            let tensor = Tensor(uninitialized: entry.shape, dtype: entry.dtype, category: category)
            data.withUnsafeBytes { raw in
                tensor.buffer.raw.copyMemory(from: raw.baseAddress! + bodyStart + entry.begin, byteCount: entry.end - entry.begin)
            }
            return (entry.name, tensor)
        }
        return Contents(tensors: tensors, metadata: metadata)
    }
}

/// A safetensors file that cannot be read or written; says which file and which tensor.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let file: String
    public let tensor: String?
    public let message: String

    public var description: String {
        "\(file): " + (tensor.map { "tensor '\($0)': " } ?? "") + message
    }
}
