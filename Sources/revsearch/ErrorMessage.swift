import Foundation

/// The line a user reads for an error. RevSearch's own errors describe themselves, naming
/// the file and the field; Foundation's (a directory that cannot be created, a file that
/// cannot be written) would print NSError's dump, so they become "PATH: what the system said".
enum ErrorMessage {
    static func text(of error: Error) -> String {
        let foundation = error as NSError
        guard foundation.domain == NSCocoaErrorDomain else { return "\(error)" }
        let info = foundation.userInfo
        let path = info[NSFilePathErrorKey] as? String ?? (info[NSURLErrorKey] as? URL)?.path
        // The system's own words ("Not a directory") when Foundation kept them.
        let reason = (info[NSUnderlyingErrorKey] as? POSIXError).map { String(cString: strerror($0.code.rawValue)) }
            ?? foundation.localizedFailureReason ?? foundation.localizedDescription
        return path.map { "\($0): \(reason)" } ?? reason
    }
}
