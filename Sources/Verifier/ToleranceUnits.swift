import Foundation
import TensorCore

/// Error measures of one tensor against its reference.
public struct TensorError: Sendable, Codable {
    /// max |a - b|
    public let maxAbsError: Double
    /// ||a - b|| / ||b|| (Frobenius); ||a - b|| when the reference is exactly zero.
    public let relativeError: Double

    enum CodingKeys: String, CodingKey {
        case maxAbsError = "max_abs_error", relativeError = "rel_error"
    }

    public init(_ a: [Double], reference b: [Double]) {
        precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
        var maxAbs = 0.0, diff = 0.0, norm = 0.0
        for i in 0..<a.count {
            let d = a[i] - b[i]
            if d.isNaN { maxAbs = .nan; diff = .nan; break }
            maxAbs = max(maxAbs, abs(d))
            diff += d * d
            norm += b[i] * b[i]
        }
        maxAbsError = maxAbs
        relativeError = norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
    }

    /// Whether the error is within `tolerance` (NaN never is).
    public func within(_ tolerance: Double) -> Bool { relativeError <= tolerance }
}
