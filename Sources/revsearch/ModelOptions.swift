import ArgumentParser
import Reversible
import RunFiles
import TensorCore

/// The model and machine options that verify, profile and the benchmarks share.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model preset: search (every op mixed, encoder 2 splits, decoder 3, d=240) or tiny.") var preset = "search"
    @Option(help: "JSON model config over the preset (README, \"Verify\").") var config: String?
    @Option(help: "OpenBLAS threads.") var threads = 2

    func validate() throws {
        try OptionRanges.threads(threads)
    }

    /// Sets the BLAS threads and returns the preset with the config file applied.
    func resolve() throws -> ModelConfig {
        BLAS.threads = threads
        var model = try ModelConfigFile.preset(preset)
        if let config { model = try ModelConfigFile.load(config, over: model) }
        return model
    }
}

/// "full,reconstruction,hybrid:2" -> modes; errors name the option.
func parseModes(_ text: String, option: String) throws -> [BackpropMode] {
    let modes = try text.split(separator: ",").map { part in
        guard let mode = BackpropMode(String(part)) else {
            throw ValidationError("\(option): unknown mode '\(part)' (expected full, reconstruction or hybrid:K)")
        }
        return mode
    }
    guard !modes.isEmpty else { throw ValidationError("\(option): expected at least one mode (full, reconstruction or hybrid:K), found \"\(text)\"") }
    return modes
}

/// "2,4,8" -> [2, 4, 8], each at least 1; errors name the option.
func parsePositiveInts(_ text: String, option: String) throws -> [Int] {
    let values = try text.split(separator: ",").map { part in
        guard let value = Int(part), value >= 1 else { throw ValidationError("\(option): '\(part)' is not a positive whole number") }
        return value
    }
    guard !values.isEmpty else { throw ValidationError("\(option): expected at least one positive whole number, found \"\(text)\"") }
    return values
}
