import Foundation

/// Small, dependency-free SVG charts for the profiler's and the search's reports.
public enum SVGChart {
    static let palette = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D"]

    /// Bars of several series side by side for each category (e.g. peak activation bytes per
    /// layer, full storage next to reconstruction), with an optional note under the chart.
    public static func groupedBars(title: String, categories: [String], series: [(name: String, values: [Double])],
                                   valueLabel: String, note: String? = nil, format: (Double) -> String = bytesText) -> String {
        let width = max(640, 70 + categories.count * (12 * series.count + 10) + 40)
        let height = 440, left = 80.0, right = 20.0, top = 64.0, bottom = 120.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maxValue = max(series.flatMap(\.values).max() ?? 1, 1)
        let ticks = niceTicks(maxValue)
        let scaleMax = ticks.last ?? maxValue
        var svg = header(width, height, title)
        svg += axes(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, ticks: ticks, scaleMax: scaleMax, format: format)
        svg += text(x: 16, y: top + plotHeight / 2, valueLabel, anchor: "middle", rotate: -90)
        let groupWidth = plotWidth / Double(max(categories.count, 1))
        let barWidth = min(24, (groupWidth - 6) / Double(max(series.count, 1)))
        for (i, category) in categories.enumerated() {
            let groupX = left + groupWidth * Double(i) + (groupWidth - barWidth * Double(series.count)) / 2
            for (k, s) in series.enumerated() where i < s.values.count {
                let h = plotHeight * s.values[i] / scaleMax
                svg += "<rect x=\"\(f(groupX + barWidth * Double(k)))\" y=\"\(f(top + plotHeight - h))\" width=\"\(f(barWidth))\" height=\"\(f(h))\" fill=\"\(palette[k % palette.count])\"><title>\(escape(s.name)) \(escape(category)): \(format(s.values[i]))</title></rect>\n"
            }
            let labelX = left + groupWidth * (Double(i) + 0.5)
            svg += text(x: labelX, y: top + plotHeight + 12, category, anchor: "end", rotate: -45, size: 10)
        }
        svg += legend(series.map(\.name), x: left + 10, y: 46)
        if let note { svg += text(x: left, y: Double(height) - 10, note, anchor: "start", size: 11) }
        return svg + "</svg>\n"
    }

    /// One line per series over a shared x axis (e.g. peak activation bytes vs depth).
    public static func lines(title: String, x: [Double], series: [(name: String, values: [Double])], xLabel: String,
                             valueLabel: String, format: (Double) -> String = bytesText) -> String {
        let width = 640, height = 420, left = 80.0, right = 20.0, top = 64.0, bottom = 60.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maxValue = max(series.flatMap(\.values).max() ?? 1, 1)
        let ticks = niceTicks(maxValue)
        let scaleMax = ticks.last ?? maxValue
        let (xMin, xMax) = (x.min() ?? 0, max(x.max() ?? 1, (x.min() ?? 0) + 1))
        func px(_ v: Double) -> Double { left + plotWidth * (v - xMin) / (xMax - xMin) }
        func py(_ v: Double) -> Double { top + plotHeight - plotHeight * v / scaleMax }
        var svg = header(width, height, title)
        svg += axes(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, ticks: ticks, scaleMax: scaleMax, format: format)
        for v in x { svg += text(x: px(v), y: top + plotHeight + 16, xText(v), anchor: "middle", size: 11) }
        svg += text(x: left + plotWidth / 2, y: Double(height) - 12, xLabel, anchor: "middle")
        svg += text(x: 16, y: top + plotHeight / 2, valueLabel, anchor: "middle", rotate: -90)
        for (k, s) in series.enumerated() {
            let color = palette[k % palette.count]
            let points = zip(x, s.values).map { "\(f(px($0))),\(f(py($1)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for (xv, yv) in zip(x, s.values) {
                svg += "<circle cx=\"\(f(px(xv)))\" cy=\"\(f(py(yv)))\" r=\"3.5\" fill=\"\(color)\"><title>\(escape(s.name)) at \(xText(xv)): \(format(yv))</title></circle>\n"
            }
        }
        svg += legend(series.map(\.name), x: left + 10, y: 46)
        return svg + "</svg>\n"
    }

    /// "12.3 MiB"
    public static func bytesText(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = bytes, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f %@", value, units[unit])
    }

    // MARK: - Pieces

    static func header(_ width: Int, _ height: Int, _ title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
    }

    static func axes(left: Double, top: Double, plotWidth: Double, plotHeight: Double, ticks: [Double], scaleMax: Double,
                     format: (Double) -> String) -> String {
        var svg = ""
        for tick in ticks {
            let y = top + plotHeight - plotHeight * tick / scaleMax
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            svg += text(x: left - 6, y: y + 4, format(tick), anchor: "end", size: 10)
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333\"/>\n"
        return svg
    }

    static func legend(_ names: [String], x: Double, y: Double) -> String {
        var svg = "", offset = x
        for (k, name) in names.enumerated() {
            svg += "<rect x=\"\(f(offset))\" y=\"\(f(y - 9))\" width=\"12\" height=\"12\" fill=\"\(palette[k % palette.count])\"/>\n"
            svg += text(x: offset + 16, y: y + 1, name, anchor: "start", size: 12)
            offset += 24 + Double(name.count) * 7
        }
        return svg
    }

    static func text(x: Double, y: Double, _ content: String, anchor: String, rotate: Double = 0, size: Int = 12) -> String {
        let transform = rotate == 0 ? "" : " transform=\"rotate(\(f(rotate)) \(f(x)) \(f(y)))\""
        return "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(transform)>\(escape(content))</text>\n"
    }

    /// 4-6 round tick values from 0 covering `maxValue`, round in the unit (B, KiB, MiB,
    /// GiB) the labels will use.
    static func niceTicks(_ maxValue: Double) -> [Double] {
        var unit = 1.0
        while maxValue / unit >= 1024 && unit < 1024 * 1024 * 1024 { unit *= 1024 }
        return niceTicks(units: maxValue / unit).map { $0 * unit }
    }

    static func niceTicks(units maxValue: Double) -> [Double] {
        let rough = maxValue / 5
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? rough
        return stride(from: 0.0, through: ceil(maxValue / step) * step + step / 2, by: step).map { $0 }
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func xText(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%g", v) }

    /// Text made safe for SVG and HTML.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
