import ArgumentParser
import TensorCore

@main
struct RevSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revsearch",
        abstract: "Memory-efficient differentiable architecture search for Transformer translation models.",
        discussion: """
            Exit status:
              0   ok
              1   a check failed: verification, gradcheck, a probe's expectation
              2   bad input: a missing or unreadable file or directory; a malformed
                  JSON, config, corpus, checkpoint or safetensors file; an invalid
                  value in one
              3   the --memory-budget was exceeded
              64  usage: an unknown option, an invalid option value
            """,
        version: "revsearch \(RevSearchVersion.description)",
        subcommands: [GradCheckCommand.self, VerifyCommand.self, ProfileCommand.self, PlanCommand.self, DumpOpsCommand.self, VocabCommand.self, TrainCommand.self, SearchCommand.self, GenotypeCommand.self, TranslateCommand.self, EvaluateCommand.self, ProbeCommand.self, BenchCommand.self]
    )

    /// ArgumentParser's `main`, with what `run()` throws ended by `ExitStatus` rather than
    /// all with status 1.
    static func main() {
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try Processes.join(for: command)
            try command.run()
        } catch { ExitStatus.terminate(for: error) }
        Processes.finish()
    }
}
