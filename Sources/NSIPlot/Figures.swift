import Foundation

/// One saved value, as a results file holds it.
public struct SavedValue: Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Double]

    public init(name: String, shape: [Int], values: [Double]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// The figures a run's results make, one per indexed series or 2-D value:
/// - `name.k` scalars (a logit lens, a patching effect per layer) are a line over k;
/// - `name.i.j` scalars (a layer x position sweep) are a heatmap of i by j;
/// - a value with two dimensions of more than one entry (an attention pattern, a
///   position-by-feature table) is a heatmap, up to `maxCells` cells.
/// Dimensions as long as the prompt are labelled with its tokens when they are given.
public enum Figures {
    /// The most cells a heatmap draws: a table of logits over a vocabulary would be an SVG
    /// of millions of elements, which no viewer shows; such values make no figure.
    public static let maxCells = 256 * 1024

    public static func make(_ saved: [SavedValue], tokens: [String]? = nil) -> [(name: String, svg: String)] {
        var out: [(String, String)] = []
        var series: [String: [Int: Double]] = [:], grids: [String: [[Int]: Double]] = [:]
        for v in saved where v.values.count == 1 {
            let parts = v.name.split(separator: ".", omittingEmptySubsequences: false)
            let indices = parts.reversed().prefix { Int($0) != nil }.reversed().compactMap { Int($0) }
            let base = parts.dropLast(indices.count).joined(separator: ".")
            guard !base.isEmpty else { continue }
            if indices.count == 1 { series[base, default: [:]][indices[0]] = v.values[0] }
            if indices.count == 2 { grids[base, default: [:]][indices] = v.values[0] }
        }
        for (base, points) in series.sorted(by: { $0.key < $1.key }) where points.count > 1 {
            let n = (points.keys.max() ?? 0) + 1
            let values = (0..<n).map { points[$0] ?? .nan }
            out.append((base, SVGFigure.line(title: base, series: [(base, values)], xLabels: (0..<n).map(String.init),
                                             xTitle: "index (layer, step, ...)", yTitle: base)))
        }
        for (base, cells) in grids.sorted(by: { $0.key < $1.key }) where cells.count > 1 {
            let rows = (cells.keys.map { $0[0] }.max() ?? 0) + 1, columns = (cells.keys.map { $0[1] }.max() ?? 0) + 1
            let values = (0..<rows).map { r in (0..<columns).map { c in cells[[r, c]] ?? .nan } }
            out.append((base, SVGFigure.heatmap(title: base, values: values, rowLabels: (0..<rows).map(String.init),
                                                columnLabels: labels(columns, tokens), rowTitle: "first index", columnTitle: "second index")))
        }
        for v in saved {
            let dims = v.shape.filter { $0 > 1 }
            guard dims.count == 2, v.values.count == dims[0] * dims[1], dims[0] * dims[1] <= maxCells else { continue }
            let values = (0..<dims[0]).map { r in Array(v.values[(r * dims[1])..<((r + 1) * dims[1])]) }
            let tokenRows = tokens?.count == dims[0], tokenColumns = tokens?.count == dims[1]
            out.append((v.name, SVGFigure.heatmap(title: v.name, values: values, rowLabels: labels(dims[0], tokens), columnLabels: labels(dims[1], tokens),
                                                  rowTitle: tokenRows ? "query token" : "row", columnTitle: tokenColumns ? (tokenRows ? "key token" : "token") : "column")))
        }
        return out
    }

    /// Labels for a dimension: the prompt's tokens when it is as long, else positions.
    static func labels(_ n: Int, _ tokens: [String]?) -> [String] {
        if let tokens, tokens.count == n { return tokens.map { $0.replacingOccurrences(of: "\n", with: "\\n") } }
        return (0..<n).map(String.init)
    }

    /// A name usable as a file name: letters, digits, `_`, `-` and `.` kept, others `_`.
    public static func fileName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
    }
}
