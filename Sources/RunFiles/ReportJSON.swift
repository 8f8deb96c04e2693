import Foundation
import TensorCore

/// How reports are written as JSON: pretty, keys sorted, a value that is not finite (a
/// measure that overflowed, a NaN a failed check saw) as null, and the version and commit
/// that wrote it (`written_by`). JSON has no NaN, and a string in a number's place ("nan")
/// breaks the readers of a report.
public enum ReportJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A marker no report string holds (it starts with a control character), replaced by null.
        let marker = "\u{1}nonfinite\u{1}"
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
        let quoted = String(decoding: try JSONEncoder().encode(marker), as: UTF8.self)
        return Data(String(decoding: try encoder.encode(Stamped(value)), as: UTF8.self).replacingOccurrences(of: quoted, with: "null").utf8)
    }
}
