import Foundation
import Testing
import TensorCore

@Suite struct SafeTensorsTests {
    func file(_ data: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-\(UUID().uuidString).safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func header(_ json: String, body: Int) -> Data {
        var data = Data()
        let bytes = Data(json.utf8)
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { data.append(contentsOf: $0) }
        return data + bytes + Data(count: body)
    }

    @Test func roundTripKeepsValuesShapesAndMetadata() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], dtype: .float32)
        let b = Tensor(shape: [4], scalars: [0.5, -1, 1e-300, 7], dtype: .float64)
        let path = try file(try SafeTensors.encode([("a", a), ("b.weight", b)], metadata: ["op": "x"]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let read = try SafeTensors.read(path)
        #expect(read.metadata == ["op": "x"])
        #expect(read["a"]?.shape == [2, 3] && read["a"]?.dtype == .float32 && read["a"]?.scalars == a.scalars)
        #expect(read["b.weight"]?.scalars == b.scalars)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + headerLength) % 8 == 0, "data starts 8-byte aligned")
    }

    @Test func badFilesNameTheFileAndTheTensor() throws {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "truncated"),
            (header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", body: 4), "tensor 'a': truncated"),
            (header("not json at all", body: 0), "not a JSON object"),
            (header("{\"a\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", body: 8), "tensor 'a': dtype I64 is not supported"),
            (header("{\"w\": {\"dtype\": \"F32\", \"shape\": [3, 2], \"data_offsets\": [0, 16]}}", body: 16), "tensor 'w': shape [3, 2] of F32 needs 24 bytes"),
            (header("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [2, 6]}}", body: 8), "overlaps"),
        ]
        for (data, message) in cases {
            let path = try file(data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try SafeTensors.read(path)
                Issue.record("\(message): no error")
            } catch let error as SafeTensorsError {
                #expect(error.description.hasPrefix(path), "\(error)")
                #expect(error.description.contains(message), "expected '\(message)' in: \(error)")
            }
        }
    }

    @Test func writingIsAtomic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.safetensors").path
        try SafeTensors.write([("t", Tensor(zeros: [3], dtype: .float32))], to: path)
        try SafeTensors.write([("t", Tensor(repeating: 2, shape: [3], dtype: .float32))], to: path)
        #expect(try SafeTensors.read(path)["t"]?.scalars == [2, 2, 2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.safetensors"], "no temporary left behind")
    }

    /// Sizes read from a file are checked before arithmetic: a shape whose product
    /// overflows is an error naming the tensor, as are bytes after the last tensor.
    @Test func oversizedShapesAndTrailingBytesAreRefused() throws {
        func file(_ header: String, body: Int) -> Data {
            var data = Data()
            let json = Data(header.utf8)
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
            return data + json + Data(count: body)
        }
        let huge = file(#"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#, body: 16)
        #expect(throws: SafeTensorsError.self) { _ = try SafeTensors.decode(huge, file: "huge.safetensors") }
        do { _ = try SafeTensors.decode(huge, file: "huge.safetensors") } catch { #expect("\(error)".contains("tensor 'w': shape [4611686018427387904, 4] is too large")) }
        let trailing = file(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, body: 11)
        do { _ = try SafeTensors.decode(trailing, file: "t.safetensors"); Issue.record("accepted trailing bytes") } catch {
            #expect("\(error)".contains("3 bytes of trailing data"))
        }
    }
}
