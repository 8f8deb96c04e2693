/// RevSearch's version, in one place: `revsearch --version` prints it and every JSON file a
/// run writes records it with the commit the binary was built from.
public enum RevSearchVersion {
    public static let version = "0.1.0"
    /// `git describe --always --dirty` of the checkout at build time ("unknown" outside one).
    public static let commit = gitCommit
    /// "0.1.0 (commit 1a2b3c4d5e6f)".
    public static var description: String { "\(version) (commit \(commit))" }
}

/// A value whose JSON object also records which RevSearch wrote it:
/// `"written_by": {"version": "0.1.0", "commit": "..."}`. Readers ignore the field, so files
/// from other versions still read. `Value` must encode as a JSON object (a struct or a
/// dictionary): an encoder cannot add a field to an array.
public struct Stamped<Value: Encodable>: Encodable {
    public let value: Value

    public init(_ value: Value) { self.value = value }

    struct WrittenBy: Encodable {
        let version = RevSearchVersion.version
        let commit = RevSearchVersion.commit
    }

    enum Keys: String, CodingKey { case writtenBy = "written_by" }

    public func encode(to encoder: Encoder) throws {
        try value.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(WrittenBy(), forKey: .writtenBy)
    }
}
