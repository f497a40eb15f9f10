import Foundation

/// Figures as SVG text: a line chart of one or more series over labelled positions, and a
/// heatmap of a matrix with labelled rows and columns and its colour scale. No drawing
/// library: the output is plain SVG 1.1 that browsers, `rsvg-convert` and notebooks show.
public enum SVGFigure {
    /// A line chart. `xLabels` name the positions (layers, tokens); values that are all
    /// positive and span more than three decades are drawn on a log scale (probabilities
    /// from a logit lens), otherwise on a linear one.
    public static func line(title: String, series: [(name: String, values: [Double])], xLabels: [String],
                            xTitle: String, yTitle: String) -> String {
        let finite = series.flatMap(\.values).filter(drawable)
        let lo0 = finite.min() ?? 0, hi0 = finite.max() ?? 1
        let log = lo0 > 0 && hi0 / lo0 > 1e3
        let axis = log ? Axis.log(lo0, hi0) : Axis.linear(lo0, hi0)
        let n = max(xLabels.count, series.map(\.values.count).max() ?? 0)
        let longest = xLabels.map(\.count).max() ?? 1
        let rotate = n > 12 || longest * n > 60
        let plot = Rect(x: 84, y: 48, width: 600, height: 300)
        let height = plot.y + plot.height + (rotate ? 16 + 7 * Double(min(longest, 24)) : 44) + 24
        var svg = Canvas(width: plot.x + plot.width + (series.count > 1 ? 170 : 30), height: height)
        svg.text(title, x: plot.x + plot.width / 2, y: 26, size: 16, anchor: "middle", weight: "bold")
        func x(_ i: Int) -> Double { n <= 1 ? plot.x + plot.width / 2 : plot.x + plot.width * Double(i) / Double(n - 1) }
        func y(_ v: Double) -> Double { plot.y + plot.height * (1 - axis.position(v)) }
        // Grid and y ticks.
        for t in axis.ticks {
            let ty = y(t.value)
            svg.line(plot.x, ty, plot.x + plot.width, ty, stroke: "#e3e3e3")
            svg.text(t.label, x: plot.x - 8, y: ty + 4, size: 11, anchor: "end")
        }
        svg.rect(plot, fill: "none", stroke: "#555")
        // x ticks: every label when they fit, else about 16 of them.
        let every = max(1, Int((Double(n) / 16).rounded(.up)))
        for i in stride(from: 0, to: n, by: every) {
            let label = i < xLabels.count ? xLabels[i] : String(i)
            svg.line(x(i), plot.y + plot.height, x(i), plot.y + plot.height + 4, stroke: "#555")
            if rotate {
                svg.text(label, x: x(i) + 4, y: plot.y + plot.height + 12, size: 11, anchor: "end", rotate: -60)
            } else {
                svg.text(label, x: x(i), y: plot.y + plot.height + 18, size: 11, anchor: "middle")
            }
        }
        svg.text(xTitle, x: plot.x + plot.width / 2, y: height - 8, size: 12, anchor: "middle")
        svg.text(yTitle + (log ? " (log scale)" : ""), x: 18, y: plot.y + plot.height / 2, size: 12, anchor: "middle", rotate: -90)
        for (k, s) in series.enumerated() {
            let colour = Palette.categorical[k % Palette.categorical.count]
            var points: [String] = []
            for (i, v) in s.values.enumerated() where drawable(v) && (!log || v > 0) {
                points.append(String(format: "%.2f,%.2f", x(i), y(v)))
            }
            svg.polyline(points, stroke: colour)
            for p in points { let xy = p.split(separator: ","); svg.circle(Double(xy[0])!, Double(xy[1])!, r: 2.5, fill: colour) }
            if series.count > 1 {
                let ly = plot.y + 10 + 18 * Double(k)
                svg.line(plot.x + plot.width + 16, ly, plot.x + plot.width + 36, ly, stroke: colour, width: 2)
                svg.text(s.name, x: plot.x + plot.width + 42, y: ly + 4, size: 11, anchor: "start")
            }
        }
        return svg.finish()
    }

    /// A heatmap of `values` (rows of equal length) with each row and column labelled, and
    /// the colour scale beside it: a sequential scale for values of one sign, a diverging
    /// one centred on 0 when they take both signs; masked and non-finite cells are grey.
    public static func heatmap(title: String, values: [[Double]], rowLabels: [String], columnLabels: [String],
                               rowTitle: String, columnTitle: String) -> String {
        let rows = values.count, columns = values.first?.count ?? 0
        let finite = values.flatMap { $0 }.filter(drawable)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let diverging = lo < 0 && hi > 0
        if diverging { let m = max(-lo, hi); lo = -m; hi = m }
        if hi == lo { hi = lo + 1 }
        let cell = max(6, min(36, 640 / Double(max(columns, 1)), 480 / Double(max(rows, 1))))
        let rowText = rowLabels.map(\.count).max() ?? 2, columnText = columnLabels.map(\.count).max() ?? 2
        let left = 40 + 6.5 * Double(min(rowText, 28))
        let top = 44.0
        let plot = Rect(x: left, y: top, width: cell * Double(columns), height: cell * Double(rows))
        let bottom = plot.y + plot.height + 12 + 6.5 * Double(min(columnText, 28)) + 28
        var svg = Canvas(width: plot.x + plot.width + 110, height: max(bottom, plot.y + 260))
        svg.text(title, x: plot.x + plot.width / 2, y: 26, size: 16, anchor: "middle", weight: "bold")
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let t = drawable(v) ? (v - lo) / (hi - lo) : .nan
                let fill = t.isNaN ? "#d0d0d0" : (diverging ? Palette.diverging(t) : Palette.sequential(t))
                svg.rect(Rect(x: plot.x + cell * Double(c), y: plot.y + cell * Double(r), width: cell, height: cell), fill: fill, stroke: nil,
                         title: "\(r < rowLabels.count ? rowLabels[r] : String(r)), \(c < columnLabels.count ? columnLabels[c] : String(c)): \(Axis.format(v))")
            }
        }
        svg.rect(plot, fill: "none", stroke: "#555")
        let font = min(11, max(7, cell * 0.8))
        let rowEvery = max(1, Int((8 / cell).rounded(.up))), columnEvery = rowEvery
        for r in stride(from: 0, to: rows, by: rowEvery) {
            svg.text(r < rowLabels.count ? rowLabels[r] : String(r), x: plot.x - 5, y: plot.y + cell * (Double(r) + 0.5) + font / 3, size: font, anchor: "end")
        }
        for c in stride(from: 0, to: columns, by: columnEvery) {
            svg.text(c < columnLabels.count ? columnLabels[c] : String(c), x: plot.x + cell * (Double(c) + 0.5) + font / 3, y: plot.y + plot.height + 6,
                     size: font, anchor: "end", rotate: -60)
        }
        svg.text(columnTitle, x: plot.x + plot.width / 2, y: svg.height - 8, size: 12, anchor: "middle")
        svg.text(rowTitle, x: 14, y: plot.y + plot.height / 2, size: 12, anchor: "middle", rotate: -90)
        // The colour scale, top to bottom from the largest value.
        let bar = Rect(x: plot.x + plot.width + 24, y: plot.y, width: 16, height: max(plot.height, 200))
        let steps = 48
        for k in 0..<steps {
            let t = 1 - (Double(k) + 0.5) / Double(steps)
            svg.rect(Rect(x: bar.x, y: bar.y + bar.height * Double(k) / Double(steps), width: bar.width, height: bar.height / Double(steps) + 0.5),
                     fill: diverging ? Palette.diverging(t) : Palette.sequential(t), stroke: nil)
        }
        svg.rect(bar, fill: "none", stroke: "#555")
        for t in Axis.linear(lo, hi).ticks where t.value >= lo - (hi - lo) * 1e-9 && t.value <= hi + (hi - lo) * 1e-9 {
            let ty = bar.y + bar.height * (1 - (t.value - lo) / (hi - lo))
            svg.line(bar.x + bar.width, ty, bar.x + bar.width + 4, ty, stroke: "#555")
            svg.text(t.label, x: bar.x + bar.width + 7, y: ty + 4, size: 10, anchor: "start")
        }
        return svg.finish()
    }
}

/// A one-line sparkline of a series for a terminal, with its range: `▁▁▂▅█ min 3e-16 max 0.43`
/// (on a log scale when the values are positive and span more than three decades).
public func sparkline(_ values: [Double]) -> String {
    let blocks = Array("▁▂▃▄▅▆▇█")
    let finite = values.filter(drawable)
    guard let lo = finite.min(), let hi = finite.max() else { return "" }
    let log = lo > 0 && hi / lo > 1e3
    func f(_ v: Double) -> Double { log ? Foundation.log10(v) : v }
    let a = f(lo), b = f(hi)
    let line = values.map { v -> Character in
        guard drawable(v) else { return " " }
        let t = b > a ? (f(v) - a) / (b - a) : 0.5
        return blocks[min(blocks.count - 1, max(0, Int(t * Double(blocks.count - 1) + 0.5)))]
    }
    return String(line) + " min \(Axis.format(lo)) max \(Axis.format(hi))" + (log ? " (log scale)" : "")
}

struct Rect { var x, y, width, height: Double }

/// Whether a value is drawn: finite, and not a masking sentinel (attention scores hold
/// -3.4e38, the most negative f32, where a key is masked). Others are left out of the
/// scale and shown grey.
func drawable(_ v: Double) -> Bool { v.isFinite && abs(v) < 1e30 }

/// An axis: where a value lies (0...1) and the ticks to label.
struct Axis {
    let position: (Double) -> Double
    let ticks: [(value: Double, label: String)]

    /// A linear axis from a round number below `lo` to one above `hi`, with about six
    /// ticks at multiples of 1, 2, 2.5 or 5 times a power of ten.
    static func linear(_ lo: Double, _ hi: Double) -> Axis {
        var a = lo, b = hi
        if a == b { a -= 1; b += 1 }
        let raw = (b - a) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        a = (a / step).rounded(.down) * step
        b = (b / step).rounded(.up) * step
        var ticks: [(Double, String)] = []
        var k = 0.0
        while a + k * step <= b + step * 1e-9 {
            let t = a + k * step
            ticks.append((t, format(abs(t) < step * 1e-9 ? 0 : t)))
            k += 1
        }
        let (lo2, hi2) = (a, b)
        return Axis(position: { ($0 - lo2) / (hi2 - lo2) }, ticks: ticks)
    }

    static func log(_ lo: Double, _ hi: Double) -> Axis {
        let a = floor(log10(lo)), b = ceil(log10(hi))
        let every = max(1, ((b - a) / 8).rounded(.up))
        let ticks = stride(from: a, through: b, by: every).map { (pow(10, $0), "1e\(Int($0))") }
        return Axis(position: { (log10($0) - a) / max(b - a, 1) }, ticks: ticks)
    }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e-3 && abs(v) < 1e5 {
            var s = String(format: "%.4g", v)
            if s.contains("e") { s = String(format: "%.3e", v) }
            return s
        }
        return String(format: "%.2g", v)
    }
}

/// Colours: a sequential scale from dark blue through teal and green to yellow (light
/// for large values), a diverging one from blue through white to red, and a few distinct
/// colours for series.
enum Palette {
    static let categorical = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let sequentialStops: [(Double, Double, Double)] = [(0.27, 0.00, 0.33), (0.23, 0.32, 0.55), (0.13, 0.57, 0.55), (0.37, 0.79, 0.38), (0.99, 0.91, 0.14)]
    static let divergingStops: [(Double, Double, Double)] = [(0.02, 0.19, 0.38), (0.57, 0.77, 0.87), (0.97, 0.97, 0.97), (0.96, 0.65, 0.51), (0.40, 0.00, 0.12)]

    static func sequential(_ t: Double) -> String { interpolate(sequentialStops, t) }
    static func diverging(_ t: Double) -> String { interpolate(divergingStops, t) }

    static func interpolate(_ stops: [(Double, Double, Double)], _ t: Double) -> String {
        let x = min(1, max(0, t)) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func c(_ u: Double, _ v: Double) -> Int { Int(((u + (v - u) * f) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    }
}

/// SVG elements written in order.
struct Canvas {
    let width: Double
    let height: Double
    private var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func text(_ s: String, x: Double, y: Double, size: Double, anchor: String, weight: String? = nil, rotate: Double? = nil) {
        var attributes = String(format: "x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"%@\"", x, y, size, anchor)
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let rotate { attributes += String(format: " transform=\"rotate(%.0f %.1f %.1f)\"", rotate, x, y) }
        body.append("<text \(attributes)>\(Canvas.escape(s))</text>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1) {
        body.append(String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"%.1f\"/>", x1, y1, x2, y2, stroke, width))
    }

    mutating func rect(_ r: Rect, fill: String, stroke: String?, title: String? = nil) {
        let s = String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"", r.x, r.y, r.width, r.height, fill)
            + (stroke.map { " stroke=\"\($0)\"" } ?? "")
        body.append(title.map { s + "><title>\(Canvas.escape($0))</title></rect>" } ?? s + "/>")
    }

    mutating func polyline(_ points: [String], stroke: String) {
        guard points.count > 1 else { return }
        body.append("<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"1.8\"/>")
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String) {
        body.append(String(format: "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" fill=\"%@\"/>", x, y, r, fill))
    }

    func finish() -> String {
        let head = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                          + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">", width, height, width, height)
        return head + "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }

    /// Text as XML character data: markup characters escaped, and control characters
    /// (which XML 1.0 does not allow) shown as their escapes.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 || u.value == 0x7f || (0xd800...0xdfff).contains(u.value) || u.value == 0xfffe || u.value == 0xffff {
                    out += String(format: "\\x%02x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}
