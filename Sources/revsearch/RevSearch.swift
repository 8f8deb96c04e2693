import ArgumentParser

@main
struct RevSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revsearch",
        abstract: "Memory-efficient differentiable architecture search for Transformer translation models.",
        subcommands: [GradCheckCommand.self, VerifyCommand.self, ProfileCommand.self, DumpOpsCommand.self, VocabCommand.self, TrainCommand.self, SearchCommand.self, TranslateCommand.self, EvaluateCommand.self, ProbeCommand.self, BenchCommand.self]
    )
}
