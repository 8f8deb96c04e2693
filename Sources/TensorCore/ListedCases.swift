/// A raw-value enum read from a file: a value outside its cases fails decoding with the
/// valid ones listed ("expected one of 1, 2, found 3"), not Swift's "cannot initialize
/// Order from invalid Int value 3".
public protocol ListedCases: RawRepresentable, CaseIterable, Decodable where RawValue: Decodable & CustomStringConvertible {}

extension ListedCases {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(RawValue.self)
        guard let value = Self(rawValue: raw) else {
            let valid = Self.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected one of \(valid), found \(raw)")
        }
        self = value
    }
}
