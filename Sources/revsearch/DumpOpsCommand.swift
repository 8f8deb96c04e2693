import ArgumentParser
import Ops
import TensorCore

/// `revsearch dump-ops`: every candidate op's test vectors as safetensors files, one per
/// (op, causal or not, padded or not), for checking our ops against another framework
/// (README, "Op test vectors"). Padded files hold a ragged batch under the model's masks, where
/// a dropped mask shows; the unpadded ones a single sentence.
struct DumpOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-ops",
        abstract: "Write each candidate op's inputs, weights, outputs and gradients as safetensors files."
    )

    @Option(help: "Directory to write <op>[.causal][.padded].safetensors into.") var out: String
    @Option(help: "float32 or float64.") var dtype = "float64"
    @Option(help: "Seed of the weights, inputs and cotangents.") var seed: UInt64 = 0
    @Option(name: .customLong("T"), help: "Sequence length.") var length = 7
    @Option(name: .customLong("c"), help: "Split width c (the op's channels).") var channels = 16
    @Option(help: "Attention and dynamic-convolution heads (must divide c).") var heads = 2

    func validate() throws {
        try OptionRanges.whole("T", length, 1...4096)
        try OptionRanges.whole("c", channels, 1...65536)
        try OptionRanges.whole("heads", heads, 1...65536)
        guard channels % heads == 0 else { throw ValidationError("--heads \(heads): must divide --c \(channels)") }
    }

    func run() throws {
        guard let type = DType(name: dtype) else { throw ValidationError("--dtype: expected float32 or float64, got '\(dtype)'") }
        guard length >= 1, channels >= 1, heads >= 1, channels % heads == 0 else {
            throw ValidationError("--T and --c must be positive and --heads must divide --c (got T=\(length), c=\(channels), heads=\(heads))")
        }
        var settings = OpTestVectors.Settings()
        settings.dtype = type
        settings.seed = seed
        settings.length = length
        settings.channels = channels
        settings.heads = heads
        var written: [String] = []
        for op in OpRegistry.standard.names {
            for causal in OpTestVectors.hasCausalForm(op) ? [false, true] : [false] {
                for padded in [false, true] {
                    let vectors = try OpTestVectors.make(op: op, causal: causal, padded: padded, settings: settings)
                    try SafeTensors.write(vectors.tensors, metadata: vectors.metadata, to: "\(out)/\(vectors.fileName)")
                    written.append(vectors.fileName)
                }
            }
        }
        print("wrote \(written.count) files to \(out): \(written.joined(separator: ", "))")
    }
}
