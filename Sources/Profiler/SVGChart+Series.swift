import Foundation

extension SVGChart {
    /// Fourteen distinguishable colours (one per candidate op of a search node).
    /// 14 colours apart in hue or lightness (after Kelly's colours of maximum contrast), one
    /// per op of the standard search space, so no two lines of an alpha chart look alike.
    static let seriesPalette = ["#0067A5", "#F38400", "#008856", "#BE0032", "#875692", "#882D17", "#E68FAC",
                                "#222222", "#8DB600", "#A1CAF1", "#F3C300", "#848482", "#2B3D26", "#F99379"]

    /// Series over steps (hundreds to thousands of points): lines without markers, thinned
    /// to at most `maxPoints` per series, x ticks at round steps, y linear from 0, linear over
    /// the data's own range (`fromZero` false: small differences between lines show), or
    /// logarithmic (for errors spanning decades). Every series shares `x`; NaN values are
    /// skipped (a series may start later than others).
    public static func series(title: String, x: [Double], series: [(name: String, values: [Double])], xLabel: String,
                              valueLabel: String, logScale: Bool = false, format: (Double) -> String = { String(format: "%.3g", $0) },
                              horizontalLines: [(name: String, value: Double)] = [], width: Int = 760, height: Int = 400,
                              maxPoints: Int = 400, fromZero: Bool = true) -> String {
        let left = 80.0, right = 20.0, bottom = 56.0
        let plotWidth = Double(width) - left - right
        let top = 42.0 + 14 * Double(legendRows(series.map(\.name), width: plotWidth))
        let plotHeight = Double(height) - top - bottom
        let values = (series.flatMap(\.values) + horizontalLines.map(\.value)).filter { $0.isFinite && (!logScale || $0 > 0) }
        let (xMin, xMax) = (x.min() ?? 0, max(x.max() ?? 1, (x.min() ?? 0) + 1))
        func px(_ v: Double) -> Double { left + plotWidth * (v - xMin) / (xMax - xMin) }
        var svg = header(width, height, title)
        let py: (Double) -> Double
        if logScale {
            let low = floor(log10(values.min() ?? 1e-12)), high = max(ceil(log10(values.max() ?? 1)), low + 1)
            py = { top + plotHeight - plotHeight * (log10($0) - low) / (high - low) }
            for e in stride(from: low, through: high, by: max(1, ((high - low) / 6).rounded(.up))) {
                let y = py(pow(10, e))
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
                svg += text(x: left - 6, y: y + 4, "1e\(Int(e))", anchor: "end", size: 10)
            }
            svg += frame(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        } else if !fromZero, let low = values.min(), let high = values.max(), high > low {
            // Round ticks over the data's range, the axis starting at the tick below the lowest value.
            let step = niceTicks(units: high - low).dropFirst().first ?? (high - low)
            let start = floor(low / step) * step, end = ceil(high / step) * step
            py = { top + plotHeight - plotHeight * ($0 - start) / (end - start) }
            for tick in Swift.stride(from: start, through: end + step / 2, by: step) {
                let y = py(tick)
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
                svg += text(x: left - 6, y: y + 4, format(tick), anchor: "end", size: 10)
            }
            svg += frame(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        } else {
            let ticks = niceTicks(max(values.max() ?? 1, 1e-12))
            let scaleMax = ticks.last ?? 1
            py = { top + plotHeight - plotHeight * $0 / scaleMax }
            svg += axes(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, ticks: ticks, scaleMax: scaleMax, format: format)
        }
        for tick in niceTicks(units: xMax) where tick >= xMin && tick <= xMax {
            svg += text(x: px(tick), y: top + plotHeight + 16, xText(tick), anchor: "middle", size: 11)
        }
        svg += text(x: left + plotWidth / 2, y: Double(height) - 12, xLabel, anchor: "middle")
        svg += text(x: 16, y: top + plotHeight / 2, valueLabel, anchor: "middle", rotate: -90)
        for (name, value) in horizontalLines where value.isFinite && (!logScale || value > 0) {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(value)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(value)))\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"><title>\(escape(name)): \(format(value))</title></line>\n"
            svg += text(x: left + plotWidth - 4, y: py(value) - 4, name, anchor: "end", size: 10)
        }
        let stride = max(1, (x.count + maxPoints - 1) / maxPoints)
        for (k, s) in series.enumerated() {
            let color = seriesPalette[k % seriesPalette.count]
            let kept = Swift.stride(from: 0, to: min(x.count, s.values.count), by: stride).map { $0 }
                + (x.count > 0 && (x.count - 1) % stride != 0 && s.values.count >= x.count ? [x.count - 1] : [])
            let points = kept.filter { s.values[$0].isFinite && (!logScale || s.values[$0] > 0) }
                .map { "\(f(px(x[$0]))),\(f(py(s.values[$0])))" }
            if points.count == 1 {
                let p = points[0].split(separator: ",")
                svg += "<circle cx=\"\(p[0])\" cy=\"\(p[1])\" r=\"3\" fill=\"\(color)\"/>\n"
            }
            let last = s.values.last { $0.isFinite }.map(format) ?? "-"
            svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"><title>\(escape(s.name)) (last \(last))</title></polyline>\n"
        }
        svg += wrappedLegend(series.map(\.name), x: left + 4, y: 42, width: plotWidth)
        return svg + "</svg>\n"
    }

    static func frame(left: Double, top: Double, plotWidth: Double, plotHeight: Double) -> String {
        "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333\"/>\n"
            + "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333\"/>\n"
    }

    static func legendItemWidth(_ name: String) -> Double { 22 + Double(name.count) * 6.2 }

    static func legendRows(_ names: [String], width: Double) -> Int {
        var rows = 1, offset = 0.0
        for name in names {
            if offset + legendItemWidth(name) > width && offset > 0 { rows += 1; offset = 0 }
            offset += legendItemWidth(name)
        }
        return rows
    }

    /// A legend that wraps onto further rows when the names do not fit on one.
    static func wrappedLegend(_ names: [String], x: Double, y: Double, width: Double) -> String {
        var svg = "", offset = x, row = y
        for (k, name) in names.enumerated() {
            let itemWidth = legendItemWidth(name)
            if offset + itemWidth > x + width && offset > x { offset = x; row += 14 }
            svg += "<rect x=\"\(f(offset))\" y=\"\(f(row - 8))\" width=\"10\" height=\"10\" fill=\"\(seriesPalette[k % seriesPalette.count])\"/>\n"
            svg += text(x: offset + 13, y: row + 1, name, anchor: "start", size: 10)
            offset += itemWidth
        }
        return svg
    }
}
