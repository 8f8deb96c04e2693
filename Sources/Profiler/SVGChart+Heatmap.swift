import Foundation

extension SVGChart {
    /// A grid of values in [0, 1] (rows x columns), darker for larger, each cell labelled;
    /// the cells in `marked` (row, column) outlined. For architecture weights: one row per
    /// node, one column per op, the chosen op marked.
    public static func heatmap(title: String, rows: [String], columns: [String], values: [[Double]], marked: Set<[Int]>,
                               note: String? = nil) -> String {
        let cell = 44.0, left = 190.0, top = 110.0
        let width = Int(left + cell * Double(columns.count) + 20), height = Int(top + cell * Double(rows.count) + 40)
        var svg = header(width, height, title)
        for (j, column) in columns.enumerated() {
            svg += text(x: left + cell * (Double(j) + 0.5), y: top - 8, column, anchor: "start", rotate: -45, size: 11)
        }
        for (i, row) in rows.enumerated() {
            let y = top + cell * Double(i)
            svg += text(x: left - 8, y: y + cell / 2 + 4, row, anchor: "end", size: 11)
            for (j, column) in columns.enumerated() {
                let value = j < values[i].count ? values[i][j] : .nan
                let x = left + cell * Double(j)
                let shade = value.isFinite ? Int(255 - 200 * min(max(value, 0), 1)) : 240
                let isMarked = marked.contains([i, j])
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell - 2))\" height=\"\(f(cell - 2))\" fill=\"rgb(\(shade),\(shade),255)\""
                    + (isMarked ? " stroke=\"#d62728\" stroke-width=\"3\"" : "")
                    + "><title>\(escape(row)) \(escape(column)): \(value.isFinite ? String(format: "%.4f", value) : "-")</title></rect>\n"
                if value.isFinite {
                    svg += text(x: x + (cell - 2) / 2, y: y + cell / 2 + 3, String(format: "%.2f", value), anchor: "middle", size: 10)
                }
            }
        }
        if let note { svg += text(x: 16, y: Double(height) - 12, note, anchor: "start", size: 11) }
        return svg + "</svg>\n"
    }
}
