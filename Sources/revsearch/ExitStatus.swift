import ArgumentParser
import Foundation
import InstrumentedRun
import Profiler

/// The exit statuses `revsearch` promises (README, "Exit status"), so that CI can tell a
/// wrong gradient from a wrong path: ArgumentParser alone ends every thrown error with 1, a
/// failed check and a missing file alike. `RevSearch.main` maps what `run()` throws here, in
/// one place, instead of each command choosing a status.
enum ExitStatus {
    /// A check failed: verification, gradcheck, a probe's expectation.
    static let checkFailed: Int32 = 1
    /// Bad input: a missing or unreadable file or directory, a malformed file, an invalid
    /// value found in one; also any other error (what the user gave could not be used).
    static let badInput: Int32 = 2
    /// `--memory-budget` exceeded.
    static let memoryBudgetExceeded: Int32 = 3

    /// Ends the process for an error `run()` threw (or the memory budget raised). What
    /// ArgumentParser already handles stays its own: an `ExitCode`, and its own errors (help
    /// requests, 0; `ValidationError` and parse errors, 64), which are all the errors it
    /// does not end with its generic status 1.
    static func terminate(for error: Error) -> Never {
        switch error {
        case is CheckFailed:
            terminate(checkFailed, error)
        case let input as InputError where input.usage:
            terminate(ExitCode.validationFailure.rawValue, error)
        case is MemoryBudget.Violation, is PlannedOverBudget:
            terminate(memoryBudgetExceeded, error)
        case _ where error is ExitCode || RevSearch.exitCode(for: error) != .failure:
            // In a data-parallel job these end every process too (a bad option found once the job began).
            if Processes.joined {
                let message = RevSearch.fullMessage(for: error)
                if !message.isEmpty { FileHandle.standardError.write(Data("revsearch: \(Processes.place)\(message)\n".utf8)) }
                Processes.end(RevSearch.exitCode(for: error).rawValue)
            }
            RevSearch.exit(withError: error)
        default:
            terminate(badInput, error)
        }
    }

    /// In a data-parallel job the message names the rank, and the whole job ends with `status`.
    private static func terminate(_ status: Int32, _ error: Error) -> Never {
        FileHandle.standardError.write(Data("revsearch: \(Processes.place)\(ErrorMessage.text(of: error))\n".utf8))
        Processes.end(status)
    }
}
