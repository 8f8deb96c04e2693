import Foundation

/// A plain text table with right-aligned numbers, for terminal reports.
struct Table {
    let header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) { rows.append(cells) }

    /// Numbers (and percentages) align right, words left.
    static func isNumeric(_ cell: String) -> Bool {
        Double(cell.hasSuffix("%") ? String(cell.dropLast()) : cell) != nil
    }

    var rendered: String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return Table.isNumeric(cell) ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Scientific notation with 2 decimals ("3.10e-09").
func sci(_ x: Double) -> String { String(format: "%.2e", x) }

/// Fixed-point with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
