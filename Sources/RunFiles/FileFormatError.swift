/// A run file (model config, probe, any JSON the tool reads) that cannot be used: the
/// message names the file, the field and what was expected.
public struct FileFormatError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
