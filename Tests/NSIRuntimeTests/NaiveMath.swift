import Foundation
import NSITensor
import NSITestSupport
import Testing

/// Plain double-precision loops over [rows][cols] arrays: the independent reference the
/// hook tests compare the runtime's points against. Nothing here shares code with the runtime.
enum Naive {
    typealias M = [[Double]]

    static func matrix(_ t: Tensor, cols: Int) -> M {
        let v = t.toFloats().map(Double.init)
        return stride(from: 0, to: v.count, by: cols).map { Array(v[$0..<($0 + cols)]) }
    }

    static func flat(_ m: M) -> [Float] { m.joined().map(Float.init) }

    /// 1 / sqrt(mean(x²) + eps) per row.
    static func rmsScale(_ x: M, eps: Double) -> [Float] {
        x.map { row in Float(1 / (row.map { $0 * $0 }.reduce(0, +) / Double(row.count) + eps).squareRoot()) }
    }

    /// w · x · s with the per-row factor s given.
    static func scaled(_ x: M, _ s: [Float], _ w: [Float]) -> M {
        zip(x, s).map { row, k in row.enumerated().map { $0.element * Double(k) * Double(w[$0.offset]) } }
    }

    static func rmsNorm(_ x: M, _ w: [Float], eps: Double) -> M {
        x.map { row in
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(row.count) + eps).squareRoot()
            return row.enumerated().map { $0.element * inv * Double(w[$0.offset]) }
        }
    }

    static func layerNorm(_ x: M, _ w: [Float], _ b: [Float], eps: Double) -> M {
        x.map { row in
            let mean = row.reduce(0, +) / Double(row.count)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(row.count)
            return row.enumerated().map { ($0.element - mean) / (variance + eps).squareRoot() * Double(w[$0.offset]) + Double(b[$0.offset]) }
        }
    }

    /// x [rows][in] @ W^T for W stored [out][in], plus bias.
    static func linear(_ x: M, _ w: M, _ bias: [Float]? = nil) -> M {
        x.map { row in
            w.enumerated().map { o, wr in
                var acc = bias.map { Double($0[o]) } ?? 0
                for i in 0..<row.count { acc += row[i] * wr[i] }
                return acc
            }
        }
    }

    static func add(_ a: M, _ b: M) -> M { zip(a, b).map { zip($0, $1).map { $0 + $1 } } }

    /// Rotary in the rotate-half layout, default frequencies theta^(-2i/d).
    static func rope(_ x: M, heads: Int, headDim d: Int, positions: [Int], theta: Double) -> M {
        x.enumerated().map { t, row in
            var out = row
            for h in 0..<heads {
                for i in 0..<(d / 2) {
                    let angle = Double(positions[t]) / pow(theta, Double(2 * i) / Double(d))
                    let a = row[h * d + i], b = row[h * d + i + d / 2]
                    out[h * d + i] = a * cos(angle) - b * sin(angle)
                    out[h * d + i + d / 2] = b * cos(angle) + a * sin(angle)
                }
            }
            return out
        }
    }

    /// Causal attention for one sequence: q [T][heads*d], k/v [T][kvHeads*d].
    /// Returns scores, pattern [heads][T][T] and z [T][heads*d].
    static func attention(q: M, k: M, v: M, heads: Int, kvHeads: Int, headDim d: Int) -> (scores: [M], pattern: [M], z: M) {
        let t = q.count, group = heads / kvHeads
        var scores: [M] = [], pattern: [M] = []
        var z = M(repeating: [Double](repeating: 0, count: heads * d), count: t)
        for h in 0..<heads {
            let kh = h / group
            var s = M(repeating: [Double](repeating: 0, count: t), count: t)
            var p = s
            for i in 0..<t {
                for j in 0..<t {
                    s[i][j] = j > i ? -Double(Float.greatestFiniteMagnitude)
                        : (0..<d).map { q[i][h * d + $0] * k[j][kh * d + $0] }.reduce(0, +) / Double(d).squareRoot()
                }
                let m = s[i][0...i].max()!
                let e = (0..<t).map { $0 > i ? 0 : exp(s[i][$0] - m) }
                let total = e.reduce(0, +)
                p[i] = e.map { $0 / total }
                for c in 0..<d { z[i][h * d + c] = (0...i).map { p[i][$0] * v[$0][kh * d + c] }.reduce(0, +) }
            }
            scores.append(s)
            pattern.append(p)
        }
        return (scores, pattern, z)
    }

    static func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
    static func geluTanh(_ x: Double) -> Double { 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }

    static func maxDiff(_ a: [Float], _ b: [Float], sourceLocation: SourceLocation = #_sourceLocation) -> Float {
        maxAbsDiff(a, b, sourceLocation: sourceLocation)
    }
}
