import Foundation
import TensorCore

/// How reports are written as JSON: pretty, keys sorted, a value that is not finite (a
/// measure that overflowed, a NaN a failed check saw) as null, and the version and commit
/// that wrote it (`written_by`, in a report that is a JSON object; an array or a single value
/// has nowhere to hold it). JSON has no NaN, and a string in a number's place ("nan") breaks
/// the readers of a report.
public enum ReportJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A marker no report string holds (it starts with a control character), replaced by null.
        let marker = "\u{1}nonfinite\u{1}"
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
        let quoted = String(decoding: try JSONEncoder().encode(marker), as: UTF8.self)
        // Stamping an array would ask the encoder for an object where it wrote an array (a trap).
        let plain = try encoder.encode(value)
        let encoded = plain.first == UInt8(ascii: "{") ? try encoder.encode(Stamped(value)) : plain
        return Data(String(decoding: encoded, as: UTF8.self).replacingOccurrences(of: quoted, with: "null").utf8)
    }
}
