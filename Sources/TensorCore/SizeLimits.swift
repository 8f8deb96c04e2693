import Foundation

/// Limits on sizes that come from users' files and options, checked before anything is
/// allocated: a width or vocabulary typed with three zeros too many must be a clear error,
/// not an abort deep in the allocator.
public enum SizeLimits {
    /// Largest width, vocabulary, depth or head count any config may name.
    public static let dimension = 1 << 24
    public static let depth = 4096

    /// A problem with `field` if it lies outside `range`.
    public static func check(_ field: String, _ value: Int, in range: ClosedRange<Int>) -> String? {
        range.contains(value) ? nil : "\(field): expected a whole number in \(range.lowerBound)...\(range.upperBound), found \(value)"
    }

    /// A problem if `scalars` values of `dtype`, held `copies` times (weights, gradients and
    /// two Adam moments: 4), cannot fit in this machine's memory. The arithmetic is in
    /// Double so that no product of sizes can overflow.
    public static func memoryProblem(scalars: Double, dtype: DType, copies: Double = 4, what: String) -> String? {
        let bytes = scalars * Double(dtype.size) * copies
        let physical = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > physical else { return nil }
        return "\(what): at least \(gib(bytes)) of weights, gradients and optimizer state, more than this machine's \(gib(physical)) of memory"
    }

    static func gib(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }
}
