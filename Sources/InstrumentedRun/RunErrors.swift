/// The two ways a run ends early that its caller must tell apart (the CLI turns them into
/// exit statuses 2 and 1): input it cannot use, and a check that failed after it ran.

/// Input a run cannot use: a file, a field, an option; the text names it and what was
/// expected. `usage` marks a problem with the options themselves (the CLI's status 64).
public struct InputError: Error, CustomStringConvertible {
    /// The message: the file, field or option, and what was expected.
    public let description: String
    /// A problem with the options themselves rather than with a file.
    public let usage: Bool

    /// An input error with its message; `usage` for an option that cannot be used.
    public init(_ description: String, usage: Bool = false) {
        self.description = description
        self.usage = usage
    }
}

/// A check that failed after it ran (a verification, a divergence): the text says what
/// failed and where.
public struct CheckFailed: Error, CustomStringConvertible {
    /// What failed and where.
    public let description: String

    /// A failed check with its message.
    public init(_ description: String) { self.description = description }
}
