import CBLAS
import Foundation
import NSITensor

/// A tensor of the recorded pass and its node on the tape (nil: it carries no gradient).
struct Tracked {
    var t: Tensor
    var n: Int?
}

/// The model's differentiable steps: each computes its value with the forward's kernels
/// and records how a gradient goes back through it. Weights are constants.
extension Tape {
    /// `x · Wᵀ + b` (`Linear`): dx = g · W, W read at its stored width.
    func linear(_ x: Tracked, _ layer: Linear) throws -> Tracked {
        let y = layer(x.t)
        let w = layer.weight
        let n = try record([x.n], shape: y.shape) { g in
            let rows = g.count / w.shape[0]
            let wf = w.dtype == .f32 ? w : w.cast(to: .f32)
            let dx = g.contiguous().reshape([rows, w.shape[0]]).matmul(wf.contiguous())
            return [dx.reshape(x.t.shape)]
        }
        return Tracked(t: y, n: n)
    }

    /// RMSNorm (`layerNorm` false) or LayerNorm over the last dimension; keeps the input.
    func norm(_ x: Tracked, _ weight: Tensor, _ bias: Tensor?, layerNorm: Bool, eps: Float) throws -> Tracked {
        let input = x.t.contiguous()
        let y = layerNorm ? input.layerNorm(weight: weight, bias: bias, eps: eps) : input.rmsNorm(weight: weight, eps: eps)
        let n = try record([x.n], shape: y.shape, saved: x.n == nil ? [] : [input]) { g in
            [Derivative.norm(input, weight.contiguous(), g.contiguous(), layerNorm: layerNorm, eps: eps)]
        }
        return Tracked(t: y, n: n)
    }

    /// A norm's per-position factor s [..., 1] (see `Tensor.normScale`); keeps the input
    /// and s: dx = −s³ · (x − μ) · g / D (μ = 0 for RMSNorm).
    func normScale(_ x: Tracked, layerNorm: Bool, eps: Float) throws -> Tracked {
        let input = x.t.contiguous()
        let s = input.normScale(layerNorm: layerNorm, eps: eps)
        let n = try record([x.n], shape: s.shape, saved: [input, s]) { g in
            [Derivative.normScale(input, s, g.contiguous(), layerNorm: layerNorm)]
        }
        return Tracked(t: s, n: n)
    }

    /// A norm with its factor given: y = w · x · s, or (x − μ) · s · w + b. Keeps x and s:
    /// dx = s · (w·g − mean(w·g) for LayerNorm), ds = Σ w·g·(x − μ).
    func normalized(_ x: Tracked, scale s: Tracked, _ weight: Tensor, _ bias: Tensor?, layerNorm: Bool) throws -> Tracked {
        let input = x.t.contiguous(), scale = s.t.contiguous()
        let y = input.normalized(scale: scale, weight: weight, bias: bias, layerNorm: layerNorm)
        let n = try record([x.n, s.n], shape: y.shape, saved: [input, scale]) { g in
            Derivative.normalized(input, scale, weight.contiguous(), g.contiguous(), layerNorm: layerNorm)
        }
        return Tracked(t: y, n: n)
    }

    /// An activation elementwise; keeps the input.
    func activation(_ x: Tracked, _ op: UnaryOp) throws -> Tracked {
        let input = x.t.contiguous()
        let y = input.unary(op)
        let n = try record([x.n], shape: y.shape, saved: x.n == nil ? [] : [input]) { g in
            [Derivative.map2(input, g.contiguous()) { x, g in g * Derivative.slope(op, x) }]
        }
        return Tracked(t: y, n: n)
    }

    /// act(g) · u elementwise (gated MLPs); keeps both inputs.
    func gated(_ gate: Tracked, _ up: Tracked, _ op: UnaryOp, _ forward: (Tensor, Tensor) -> Tensor) throws -> Tracked {
        let g0 = gate.t.contiguous(), u0 = up.t.contiguous()
        let y = forward(g0, u0)
        let n = try record([gate.n, up.n], shape: y.shape, saved: [g0, u0]) { g in
            let gc = g.contiguous()
            let dg = Derivative.map3(g0, u0, gc) { x, u, g in g * u * Derivative.slope(op, x) }
            let du = Derivative.map2(g0, gc) { x, g in g * op.apply(x) }
            return [dg, du]
        }
        return Tracked(t: y, n: n)
    }

    func add(_ a: Tracked, _ b: Tracked) throws -> Tracked {
        let y = a.t + b.t
        return Tracked(t: y, n: try record([a.n, b.n], shape: y.shape) { g in [g, g] })
    }

    func scale(_ a: Tracked, _ s: Float) throws -> Tracked {
        let y = a.t * s
        return Tracked(t: y, n: try record([a.n], shape: y.shape) { g in [g * s] })
    }

    /// cap · tanh(x / cap); keeps the result.
    func softcap(_ a: Tracked, _ cap: Float) throws -> Tracked {
        let y = a.t.contiguous().copy()
        y.softcapInPlace(cap)
        let n = try record([a.n], shape: y.shape, saved: a.n == nil ? [] : [y]) { g in
            [Derivative.map2(y, g.contiguous()) { y, g in g * (1 - (y / cap) * (y / cap)) }]
        }
        return Tracked(t: y, n: n)
    }

    func reshape(_ a: Tracked, _ shape: [Int]) throws -> Tracked {
        let y = a.t.contiguous().reshape(shape)
        let from = a.t.shape
        return Tracked(t: y, n: try record([a.n], shape: y.shape) { g in [g.reshape(from)] })
    }

    /// `start..<end` of dimension `dim`, copied: the gradient goes back into those places.
    func slice(_ a: Tracked, dim: Int, start: Int, end: Int) throws -> Tracked {
        let y = a.t.slice(dim: dim, start: start, end: end).contiguous()
        let from = a.t.shape
        let n = try record([a.n], shape: y.shape) { g in
            let dx = Tensor(zeros: from)
            dx.slice(dim: dim, start: start, end: end).assign(g)
            return [dx]
        }
        return Tracked(t: y, n: n)
    }

    /// Rotary embedding of [N, heads, hd]: a rotation per position, so the gradient
    /// turns back by the opposite angle.
    func rotary(_ a: Tracked, cos: [Float], sin: [Float], dims: Int?) throws -> Tracked {
        let y = a.t.contiguous().copy()
        let rows = Array(0..<y.shape[0])
        Rotary.apply(y, cos: cos, sin: sin, tableRow: rows, dims: dims)
        let n = try record([a.n], shape: y.shape) { g in
            let dx = g.contiguous().copy()
            Rotary.apply(dx, cos: cos, sin: sin.map { -$0 }, tableRow: rows, dims: dims)
            return [dx]
        }
        return Tracked(t: y, n: n)
    }

    /// Softmax over the last dimension; keeps the result.
    func softmax(_ a: Tracked) throws -> Tracked {
        let y = a.t.contiguous().softmax(dim: -1)
        let n = try record([a.n], shape: y.shape, saved: a.n == nil ? [] : [y]) { g in
            [Derivative.softmax(y, g.contiguous())]
        }
        return Tracked(t: y, n: n)
    }
}

/// Gradients of the model's steps, on contiguous f32 tensors.
public enum Derivative {
    /// g · d op(x) / dx elementwise, for tensors of one shape.
    public static func unary(_ op: UnaryOp, x: Tensor, g: Tensor) -> Tensor {
        map2(x.contiguous(), g.contiguous()) { x, g in g * slope(op, x) }
    }

    /// d act(x) / dx.
    @inline(__always)
    public static func slope(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .gelu:
            return 0.5 * (1 + erff(x * 0.70710678118654752)) + x * expf(-0.5 * x * x) * 0.3989422804014327
        case .geluTanh:
            let c: Float = 0.7978845608028654
            let t = tanhf(c * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        case .neg: return -1
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .exp: return expf(x)
        case .log: return 1 / x
        case .sqrt: return 0.5 / sqrtf(x)
        case .relu: return x > 0 ? 1 : 0
        case .sigmoid:
            let s = 1 / (1 + expf(-x))
            return s * (1 - s)
        case .tanh:
            let t = tanhf(x)
            return 1 - t * t
        }
    }

    static func map2(_ a: Tensor, _ b: Tensor, _ f: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        let out = Tensor(zeros: a.shape)
        let p = (UncheckedPointer(a.floatPointer), UncheckedPointer(b.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(a.count, cost: 8) { r in for i in r { p.2.p[i] = f(p.0.p[i], p.1.p[i]) } }
        return out
    }

    static func map3(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: @escaping @Sendable (Float, Float, Float) -> Float) -> Tensor {
        let out = Tensor(zeros: a.shape)
        let p = (UncheckedPointer(a.floatPointer), UncheckedPointer(b.floatPointer), UncheckedPointer(c.floatPointer),
                 UncheckedPointer(out.floatPointer))
        parallelFor(a.count, cost: 8) { r in for i in r { p.3.p[i] = f(p.0.p[i], p.1.p[i], p.2.p[i]) } }
        return out
    }

    /// RMSNorm y = w · x · r, r = 1/sqrt(mean(x²) + eps):
    ///   dx = r · (w·g) − x · r³ · mean(w·g·x).
    /// LayerNorm x̂ = (x − μ) · r, y = w · x̂ + b:
    ///   dx = r · (w·g − mean(w·g) − x̂ · mean(w·g·x̂)).
    /// Sums in double, per row of the last dimension.
    static func norm(_ x: Tensor, _ w: Tensor, _ g: Tensor, layerNorm: Bool, eps: Float) -> Tensor {
        let d = x.shape[x.rank - 1]
        let out = Tensor(zeros: x.shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(w.floatPointer), UncheckedPointer(g.floatPointer),
                 UncheckedPointer(out.floatPointer))
        parallelFor(x.count / max(d, 1), cost: d * 8) { rows in
            let (x, w, g, o) = (p.0.p, p.1.p, p.2.p, p.3.p)
            for r in rows {
                let xr = x + r * d, gr = g + r * d, orow = o + r * d
                if layerNorm {
                    var mean = 0.0
                    for i in 0..<d { mean += Double(xr[i]) }
                    mean /= Double(d)
                    var variance = 0.0
                    for i in 0..<d { let c = Double(xr[i]) - mean; variance += c * c }
                    variance /= Double(d)
                    let inv = 1 / (variance + Double(eps)).squareRoot()
                    var sumG = 0.0, sumGX = 0.0
                    for i in 0..<d {
                        let wg = Double(w[i]) * Double(gr[i]), xh = (Double(xr[i]) - mean) * inv
                        sumG += wg
                        sumGX += wg * xh
                    }
                    let mg = sumG / Double(d), mgx = sumGX / Double(d)
                    for i in 0..<d {
                        let wg = Double(w[i]) * Double(gr[i]), xh = (Double(xr[i]) - mean) * inv
                        orow[i] = Float(inv * (wg - mg - xh * mgx))
                    }
                } else {
                    var ss = 0.0
                    for i in 0..<d { ss += Double(xr[i]) * Double(xr[i]) }
                    let rs = 1 / (ss / Double(d) + Double(eps)).squareRoot()
                    var dot = 0.0
                    for i in 0..<d { dot += Double(w[i]) * Double(gr[i]) * Double(xr[i]) }
                    let k = rs * rs * rs * dot / Double(d)
                    for i in 0..<d { orow[i] = Float(rs * Double(w[i]) * Double(gr[i]) - Double(xr[i]) * k) }
                }
            }
        }
        return out
    }

    /// Of `Tape.normScale`: dx = −s³ · (x − μ) · g / D per row.
    static func normScale(_ x: Tensor, _ s: Tensor, _ g: Tensor, layerNorm: Bool) -> Tensor {
        let d = x.shape[x.rank - 1]
        let out = Tensor(zeros: x.shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(s.floatPointer), UncheckedPointer(g.floatPointer),
                 UncheckedPointer(out.floatPointer))
        parallelFor(x.count / max(d, 1), cost: d * 4) { rows in
            for r in rows {
                let xr = p.0.p + r * d, o = p.3.p + r * d
                var mean = 0.0
                if layerNorm { for i in 0..<d { mean += Double(xr[i]) }; mean /= Double(d) }
                let s = Double(p.1.p[r]), k = -s * s * s * Double(p.2.p[r]) / Double(d)
                for i in 0..<d { o[i] = Float(k * (Double(xr[i]) - mean)) }
            }
        }
        return out
    }

    /// Of `Tape.normalized`: [dx, ds].
    static func normalized(_ x: Tensor, _ s: Tensor, _ w: Tensor, _ g: Tensor, layerNorm: Bool) -> [Tensor?] {
        let d = x.shape[x.rank - 1]
        let dx = Tensor(zeros: x.shape), ds = Tensor(zeros: s.shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(s.floatPointer), UncheckedPointer(w.floatPointer),
                 UncheckedPointer(g.floatPointer), UncheckedPointer(dx.floatPointer), UncheckedPointer(ds.floatPointer))
        parallelFor(x.count / max(d, 1), cost: d * 6) { rows in
            for r in rows {
                let xr = p.0.p + r * d, gr = p.3.p + r * d, o = p.4.p + r * d
                var mean = 0.0, meanWG = 0.0
                if layerNorm {
                    for i in 0..<d { mean += Double(xr[i]); meanWG += Double(p.2.p[i]) * Double(gr[i]) }
                    mean /= Double(d)
                    meanWG /= Double(d)
                }
                let s = Double(p.1.p[r])
                var sum = 0.0
                for i in 0..<d {
                    let wg = Double(p.2.p[i]) * Double(gr[i])
                    o[i] = Float(s * (wg - meanWG))
                    sum += wg * (Double(xr[i]) - mean)
                }
                p.5.p[r] = Float(sum)
            }
        }
        return [dx, ds]
    }

    /// y = softmax(x) over the last dimension: dx = y · (g − Σ g·y).
    public static func softmax(_ y: Tensor, _ g: Tensor) -> Tensor {
        let d = y.shape[y.rank - 1]
        let out = Tensor(zeros: y.shape)
        let p = (UncheckedPointer(y.floatPointer), UncheckedPointer(g.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(y.count / max(d, 1), cost: d * 4) { rows in
            for r in rows {
                let yr = p.0.p + r * d, gr = p.1.p + r * d, o = p.2.p + r * d
                var dot = 0.0
                for i in 0..<d { dot += Double(yr[i]) * Double(gr[i]) }
                let s = Float(dot)
                for i in 0..<d { o[i] = yr[i] * (gr[i] - s) }
            }
        }
        return out
    }
}
