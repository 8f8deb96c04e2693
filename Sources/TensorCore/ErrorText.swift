import Foundation

/// The cause of a failed file operation in the system's words ("Permission denied", "No
/// space left on device", "Not a directory"), without Foundation's dump of the error, which
/// names a temporary file rather than the one the user gave: callers put their own path first.
public enum IOErrorText {
    public static func describe(_ error: Error) -> String {
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        let foundation = error as NSError
        guard foundation.domain == NSCocoaErrorDomain || foundation.domain == NSPOSIXErrorDomain else { return "\(error)" }
        if foundation.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(foundation.code))) }
        if let underlying = foundation.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch CocoaError.Code(rawValue: foundation.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
        case .fileWriteOutOfSpace: return "No space left on device"
        case .fileWriteVolumeReadOnly: return "Read-only file system"
        default: return foundation.localizedFailureReason ?? foundation.localizedDescription
        }
    }
}

/// A JSON decoding error as one line naming the field ("field 'options.seed': expected
/// UInt64"), not Swift's dump of coding paths.
public enum DecodingErrorText {
    public static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func field(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "field '\(field(context.codingPath))': expected \(type)"
        case .valueNotFound(let type, let context):
            return "field '\(field(context.codingPath))': null where \(type) was expected"
        case .keyNotFound(let key, let context):
            return "missing field '\(field(context.codingPath + [key]))'"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // Foundation also lands here for valid JSON holding a number of the wrong kind (1.5 or 1e300 where a whole number belongs).
                let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
                return "not valid JSON, or a number of the wrong kind for its field (\(detail))"
            }
            return "field '\(field(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
