import Foundation
import TensorCore

/// The line a user reads for an error. RevSearch's own errors describe themselves, naming
/// the file and the field; Foundation's (a directory that cannot be created, a file that
/// cannot be written) would print NSError's dump, so they become "PATH: what the system said".
enum ErrorMessage {
    static func text(of error: Error) -> String {
        let foundation = error as NSError
        guard foundation.domain == NSCocoaErrorDomain else { return "\(error)" }
        let info = foundation.userInfo
        let path = info[NSFilePathErrorKey] as? String ?? (info[NSURLErrorKey] as? URL)?.path
        let reason = IOErrorText.describe(error)
        return path.map { "\($0): \(reason)" } ?? reason
    }
}
