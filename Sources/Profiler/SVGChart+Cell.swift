import Foundation

extension SVGChart {
    /// One stack of a derived block as a cell diagram: per layer, one lane per split, X_k
    /// entering on the left and Y_k = X_k + G_k(H_k) leaving on the right, the node G_k drawn
    /// with its op (and softmax weight) above the sum, and H_k named: the pooling of the
    /// outputs of the splits before it and the inputs of the splits after it (DESIGN.md
    /// section 2). `layers[l][k]` is split k+1 of layer l+1.
    public static func cellDiagram(title: String, layers: [[(op: String, weight: Double?)]], pooling: String, note: String? = nil) -> String {
        let splits = layers.map(\.count).max() ?? 0
        let layerWidth = 300.0, lane = 78.0, left = 40.0, top = 70.0
        let width = Int(left * 2 + layerWidth * Double(layers.count)), height = Int(top + lane * Double(splits) + 50)
        var svg = header(width, height, title)
        svg += "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
            + "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#555\"/></marker></defs>\n"
        for (l, nodes) in layers.enumerated() {
            let x0 = left + layerWidth * Double(l)
            svg += text(x: x0 + layerWidth / 2 - 10, y: top - 24, "layer \(l + 1)", anchor: "middle", size: 13)
            for (k, node) in nodes.enumerated() {
                let y = top + lane * Double(k) + lane * 0.7
                let plus = x0 + layerWidth - 70
                // The lane: X_k to the sum to Y_k.
                svg += line(x0, y, plus - 9, y) + line(plus + 9, y, x0 + layerWidth - 20, y)
                svg += "<circle cx=\"\(f(plus))\" cy=\"\(f(y))\" r=\"9\" fill=\"white\" stroke=\"#555\"/>\n"
                svg += text(x: plus, y: y + 4, "+", anchor: "middle", size: 13)
                svg += text(x: x0 + 2, y: y - 4, "X\(k + 1)", anchor: "start", size: 10)
                svg += text(x: x0 + layerWidth - 22, y: y - 4, "Y\(k + 1)", anchor: "end", size: 10)
                // The node G_k above the lane, feeding the sum.
                let (bx, by, bw, bh) = (x0 + 100, y - lane * 0.62, 120.0, 30.0)
                svg += "<rect x=\"\(f(bx))\" y=\"\(f(by))\" width=\"\(f(bw))\" height=\"\(f(bh))\" rx=\"4\" fill=\"#dbe9f6\" stroke=\"#1f77b4\">"
                    + "<title>\(escape(node.op))\(node.weight.map { String(format: " (softmax weight %.3f)", $0) } ?? "")</title></rect>\n"
                svg += text(x: bx + bw / 2, y: by + 14, node.op, anchor: "middle", size: 12)
                svg += text(x: bx + bw / 2, y: by + 26, node.weight.map { String(format: "weight %.3f", $0) } ?? "fixed", anchor: "middle", size: 9)
                svg += "<path d=\"M\(f(bx + bw)) \(f(by + bh / 2)) L\(f(plus)) \(f(by + bh / 2)) L\(f(plus)) \(f(y - 10))\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n"
                let inputs = (0..<k).map { "Y\($0 + 1)" } + ((k + 1)..<nodes.count).map { "X\($0 + 1)" }
                let pooled = inputs.count > 1 ? "\(pooling)(\(inputs.joined(separator: ", ")))" : inputs.joined()
                svg += text(x: bx - 4, y: by + bh / 2 + 4, pooled, anchor: "end", size: 9)
            }
        }
        if let note { svg += text(x: 16, y: Double(height) - 12, note, anchor: "start", size: 11) }
        return svg + "</svg>\n"
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"#555\" stroke-width=\"1.5\"/>\n"
    }
}
