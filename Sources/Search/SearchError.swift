/// A search, genotype or search-checkpoint problem; the text names the file or option and
/// what was expected.
public struct SearchError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
