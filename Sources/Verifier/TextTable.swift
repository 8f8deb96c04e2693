import Foundation

/// A plain text table with right-aligned numbers, for terminal reports.
public struct TextTable {
    public let header: [String]
    public var rows: [[String]] = []

    public init(_ header: String...) { self.header = header }

    /// A table whose columns are known only at run time (one per mode, per category).
    public init(columns: [String]) { self.header = columns }

    public mutating func add(_ cells: String...) { rows.append(cells) }

    /// A row of a table made with `columns`.
    public mutating func add(row cells: [String]) { rows.append(cells) }

    /// Numbers (and percentages) align right, words left.
    public static func isNumeric(_ cell: String) -> Bool {
        Double(cell.hasSuffix("%") ? String(cell.dropLast()) : cell) != nil
    }

    public var rendered: String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return TextTable.isNumeric(cell) ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Scientific notation with 2 decimals ("3.10e-09").
public func sci(_ x: Double) -> String { String(format: "%.2e", x) }

/// Fixed-point with `digits` decimals.
public func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

/// A duration for a terminal or a report: "1h02m", "3m05s", "12s".
public func duration(_ seconds: Double) -> String {
    let s = max(Int(seconds), 0)
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
}
