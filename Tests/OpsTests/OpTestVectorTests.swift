import Foundation
import Ops
import TensorCore
import Testing

/// Dumps round-trip: written, read back with our own reader, recomputed from what was
/// read (weights loaded into a freshly built op), equal bit for bit.
@Suite struct OpTestVectorTests {
    static let cases: [(String, Bool)] = OpRegistry.standard.names.flatMap { op in
        (OpTestVectors.hasCausalForm(op) ? [false, true] : [false]).map { (op, $0) }
    }

    @Test func twentyThreeFiles() {
        #expect(Self.cases.count == 23)
    }

    @Test(arguments: cases)
    func roundTripIsBitExact(op: String, causal: Bool) throws {
        var settings = OpTestVectors.Settings()
        settings.seed = 3
        let vectors = try OpTestVectors.make(op: op, causal: causal, settings: settings)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("revsearch-\(UUID().uuidString)-\(vectors.fileName)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(vectors.tensors, metadata: vectors.metadata, to: path)
        let read = try SafeTensors.read(path)
        #expect(read.metadata == vectors.metadata)
        #expect(read.tensors.map(\.name).sorted() == vectors.tensors.map(\.name).sorted())
        for (name, tensor) in vectors.tensors {
            #expect(read[name]?.shape == tensor.shape && read[name]?.scalars == tensor.scalars, "\(name)")
        }
        // Rebuild the op with other weights, then load the file's into it.
        let spec = OpSpec(channels: settings.channels, modelWidth: 2 * settings.channels, heads: settings.heads, causal: causal, dtype: .float64)
        var rng = RandomState(seed: 999)
        let rebuilt = try OpRegistry.standard.make(op, spec: spec, rng: &rng)
        for (name, tensor) in rebuilt.parameters {
            let stored = try #require(read["param.\(name)"], "param.\(name)")
            #expect(stored.shape == tensor.shape)
            tensor.buffer.raw.copyMemory(from: stored.buffer.raw, byteCount: tensor.count * tensor.dtype.size)
        }
        let again = OpTestVectors.run(rebuilt, input: read["input"]!, memory: read["memory"], gradOutput: read["grad_output"]!)
        #expect(again.output.scalars == read["output"]!.scalars, "output bit for bit")
        #expect(again.gradInput.scalars == read["grad.input"]!.scalars)
        #expect(again.gradMemory?.scalars == read["grad.memory"]?.scalars)
        for (name, grad) in again.gradParameters {
            #expect(grad.scalars == read["grad.param.\(name)"]!.scalars, "grad.param.\(name)")
        }
    }

    @Test func metadataFollowsTheContract() throws {
        let conv = try OpTestVectors.make(op: "conv5", causal: true, settings: .init())
        #expect(conv.fileName == "conv5.causal.safetensors")
        #expect(conv.metadata["width"] == "5" && conv.metadata["causal"] == "true" && conv.metadata["wrapped"] == "true")
        #expect(conv.tensors.contains { $0.name == "param.conv.weight" && $0.tensor.shape == [16, 16, 5] })
        let cross = try OpTestVectors.make(op: "cross_attn", causal: false, settings: .init())
        #expect(cross.tensors.contains { $0.name == "memory" && $0.tensor.shape == [5, 32] })
        #expect(cross.tensors.contains { $0.name == "param.k_proj.weight" && $0.tensor.shape == [16, 32] })
        #expect(cross.tensors.contains { $0.name == "grad.memory" })
        let zero = try OpTestVectors.make(op: "zero", causal: false, settings: .init())
        #expect(zero.metadata["wrapped"] == "false" && !zero.tensors.contains { $0.name.hasPrefix("param.") })
    }
}
