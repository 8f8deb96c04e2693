import Foundation
import Ops
import TensorCore
import Testing

/// Dumps round-trip: written, read back with our own reader, recomputed from what was
/// read (weights loaded into a freshly built op, masks rebuilt from the metadata's lengths),
/// equal bit for bit. Padded dumps hold the model's masks, and padding reaches no real row.
@Suite struct OpTestVectorTests {
    static let cases: [(String, Bool)] = OpRegistry.standard.names.flatMap { op in
        (OpTestVectors.hasCausalForm(op) ? [false, true] : [false]).map { (op, $0) }
    }

    @Test func twentyThreeForms() {
        #expect(Self.cases.count == 23)
    }

    @Test(arguments: cases, [false, true])
    func roundTripIsBitExact(form: (op: String, causal: Bool), padded: Bool) throws {
        let (op, causal) = form
        var settings = OpTestVectors.Settings()
        settings.seed = 3
        let vectors = try OpTestVectors.make(op: op, causal: causal, padded: padded, settings: settings)
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
        func lengths(_ key: String) -> [Int] { read.metadata[key].map { $0.split(separator: ",").map { Int($0)! } } ?? [] }
        let padding = padded ? OpTestVectors.Padding(lengths: lengths("lengths"), memoryLengths: lengths("memory_lengths")) : nil
        let again = OpTestVectors.run(rebuilt, input: read["input"]!, memory: read["memory"], padding: padding,
                                      gradOutput: read["grad_output"]!)
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

    @Test func paddedDumpHoldsTheModelsMasks() throws {
        let cross = try OpTestVectors.make(op: "cross_attn", causal: false, padded: true, settings: .init())
        #expect(cross.fileName == "cross_attn.padded.safetensors")
        #expect(cross.metadata["B"] == "3" && cross.metadata["lengths"] == "4,7,1" && cross.metadata["memory_lengths"] == "5,1,3")
        let shapes = Dictionary(uniqueKeysWithValues: cross.tensors.map { ($0.name, $0.tensor.shape) })
        #expect(shapes["input"] == [3, 7, 16] && shapes["memory"] == [3, 5, 32] && shapes["output"] == [3, 7, 16])
        #expect(shapes["grad.input"] == [3, 7, 16] && shapes["grad.memory"] == [3, 5, 32])
        #expect(shapes["key_mask"] == [3, 1, 1, 7] && shapes["position_mask"] == [3, 7, 1] && shapes["memory_mask"] == [3, 1, 1, 5])
        let tensor = { (name: String) in cross.tensors.first { $0.name == name }!.tensor.scalars }
        func additive(_ lengths: [Int], _ length: Int) -> [Double] {
            lengths.flatMap { n in (0..<length).map { $0 < n ? 0.0 : -Double.infinity } }
        }
        let keyMask = additive([4, 7, 1], 7), memoryMask = additive([5, 1, 3], 5)
        let positionMask = keyMask.map { $0 == 0 ? 1.0 : 0 }
        #expect(tensor("key_mask") == keyMask)
        #expect(tensor("position_mask") == positionMask)
        #expect(tensor("memory_mask") == memoryMask)
        let conv = try OpTestVectors.make(op: "conv3", causal: true, padded: true, settings: .init())
        #expect(conv.fileName == "conv3.causal.padded.safetensors" && conv.metadata["memory_lengths"] == nil)
        #expect(!conv.tensors.contains { $0.name == "memory_mask" || $0.name == "memory" })
    }

    /// The invariant the masks exist for: each sentence's real rows of the padded batch equal
    /// the op run on that sentence alone (memory cut to its length), up to rounding.
    @Test(arguments: cases)
    func paddingReachesNoRealRow(op: String, causal: Bool) throws {
        let settings = OpTestVectors.Settings()
        let vectors = try OpTestVectors.make(op: op, causal: causal, padded: true, settings: settings)
        let tensor = { (name: String) in vectors.tensors.first { $0.name == name }?.tensor }
        let spec = OpSpec(channels: settings.channels, modelWidth: 2 * settings.channels, heads: settings.heads, causal: causal, dtype: .float64)
        var rng = RandomState(seed: 999)
        let alone = try OpRegistry.standard.make(op, spec: spec, rng: &rng)
        for (name, weight) in alone.parameters {
            let stored = try #require(tensor("param.\(name)"))
            weight.buffer.raw.copyMemory(from: stored.buffer.raw, byteCount: weight.count * weight.dtype.size)
        }
        /// Rows 0..<count of sentence b of a [B, L, width] tensor, as [count, width].
        func rows(_ t: Tensor, _ b: Int, _ count: Int) -> Tensor {
            let (length, width) = (t.shape[1], t.shape[2])
            return Tensor(shape: [count, width], scalars: Array(t.scalars[(b * length * width)..<((b * length + count) * width)]), dtype: t.dtype)
        }
        let output = try #require(tensor("output"))
        let scale = output.scalars.map(abs).max()!
        for (b, n) in settings.paddedLengths.enumerated() {
            let memory = tensor("memory").map { rows($0, b, settings.paddedMemoryLengths[b]) }
            let input = rows(tensor("input")!, b, n)
            let single = OpTestVectors.run(alone, input: input, memory: memory, gradOutput: Tensor(zeros: input.shape, dtype: .float64))
            let error = zip(single.output.scalars, rows(output, b, n).scalars).map { abs($0 - $1) }.max()!
            #expect(error <= 1e-12 * scale, "sentence \(b) (length \(n)): \(error)")
        }
    }
}
