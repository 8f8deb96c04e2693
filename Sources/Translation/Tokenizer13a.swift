import Foundation

/// sacreBLEU's default tokenizer ("13a", after mteval-v13a.pl), reproduced step by step from
/// sacrebleu 2.x: remove "<skipped>", join "-\n", newlines to spaces, unescape four HTML
/// entities, then four regular expressions and single spacing. Python's `str.split()` and
/// string comparison work on Unicode code points; so does this (see `BLEU`).
public enum Tokenizer13a {
    private static let rules: [(NSRegularExpression, String)] = [
        // Most punctuation and symbols (not the apostrophe, hyphen, period or comma).
        (#"([\{-\~\[-\` -\&\(-\+\:-\@\/])"#, " $1 "),
        // Period and comma unless preceded by a digit...
        (#"([^0-9])([\.,])"#, "$1 $2 "),
        // ...and unless followed by a digit.
        (#"([\.,])([^0-9])"#, " $1 $2"),
        // A dash after a digit.
        (#"([0-9])(-)"#, "$1 $2 "),
    ].map { (try! NSRegularExpression(pattern: $0.0), $0.1) }

    public static func tokenize(_ line: String) -> String {
        var text = line.replacingOccurrences(of: "<skipped>", with: "")
            .replacingOccurrences(of: "-\n", with: "")
            .replacingOccurrences(of: "\n", with: " ")
        if text.contains("&") {
            text = text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        }
        var padded = " " + text + " "
        for (regex, template) in rules {
            padded = regex.stringByReplacingMatches(in: padded, range: NSRange(padded.startIndex..., in: padded), withTemplate: template)
        }
        return pythonSplit(padded).joined(separator: " ")
    }

    /// Python's `str.split()`: runs of Unicode white space separate fields; none are empty.
    static func pythonSplit(_ s: String) -> [String] {
        var fields: [String] = [], current = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty { fields.append(String(current)); current = .init() }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { fields.append(String(current)) }
        return fields
    }

    /// `str.isspace()` of one code point: the White_Space property plus the ASCII separators
    /// U+001C-U+001F that Python also counts.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }
}
