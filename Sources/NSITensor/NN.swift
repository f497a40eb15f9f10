import Foundation

/// A norm's statistics of one row of `d` values, in the f32 arithmetic every norm here
/// shares: the mean (0 for RMSNorm) and the factor 1 / sqrt(mean(x²) + eps), or
/// 1 / sqrt(var + eps) for LayerNorm.
@inline(__always)
func normStatistics(_ row: UnsafeMutablePointer<Float>, _ d: Int, layerNorm: Bool, eps: Float) -> (mean: Float, scale: Float) {
    if layerNorm {
        var mean: Float = 0
        for i in 0..<d { mean += row[i] }
        mean /= Float(d)
        var variance: Float = 0
        for i in 0..<d { let c = row[i] - mean; variance += c * c }
        variance /= Float(d)
        return (mean, 1 / sqrtf(variance + eps))
    }
    var ss: Float = 0
    for i in 0..<d { ss += row[i] * row[i] }
    return (0, 1 / sqrtf(ss / Float(d) + eps))
}

/// Normalizations and rotary embedding, over the last dimension, as Hugging Face
/// transformers computes them in f32.
extension Tensor {
    /// `x / sqrt(mean(x²) + eps) * weight` over the last dimension (Llama's RMSNorm).
    public func rmsNorm(weight: Tensor, eps: Float) -> Tensor {
        let x = contiguous()
        let d = shape[rank - 1]
        precondition(weight.count == d, "rmsNorm: weight has \(weight.count) elements for dimension \(d)")
        let w = weight.contiguous()
        let out = Tensor(zeros: shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(out.floatPointer), UncheckedPointer(w.floatPointer))
        parallelFor(count / max(d, 1), cost: d * 3) { rows in
            let (s, o, w) = (p.0.p, p.1.p, p.2.p)
            for r in rows {
                let row = s + r * d, dst = o + r * d
                let scale = normStatistics(row, d, layerNorm: false, eps: eps).scale
                for i in 0..<d { dst[i] = w[i] * (row[i] * scale) }
            }
        }
        return out
    }

    /// `(x - mean) / sqrt(var + eps) * weight + bias` over the last dimension (biased variance).
    public func layerNorm(weight: Tensor, bias: Tensor?, eps: Float) -> Tensor {
        let x = contiguous()
        let d = shape[rank - 1]
        let w = weight.contiguous()
        let b = bias?.contiguous() ?? Tensor(zeros: [d])
        let out = Tensor(zeros: shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(out.floatPointer),
                 UncheckedPointer(w.floatPointer), UncheckedPointer(b.floatPointer))
        parallelFor(count / max(d, 1), cost: d * 4) { rows in
            let (s, o, w, b) = (p.0.p, p.1.p, p.2.p, p.3.p)
            for r in rows {
                let row = s + r * d, dst = o + r * d
                let (mean, inv) = normStatistics(row, d, layerNorm: true, eps: eps)
                for i in 0..<d { dst[i] = (row[i] - mean) * inv * w[i] + b[i] }
            }
        }
        return out
    }
}

extension Tensor {
    /// The per-row factor of a norm over the last dimension, [..., 1]: 1 / sqrt(mean(x²) +
    /// eps) (RMSNorm) or 1 / sqrt(var + eps) (LayerNorm), in the arithmetic of `rmsNorm`
    /// and `layerNorm`, so that `normalized(scale:...)` of it gives their result exactly.
    public func normScale(layerNorm: Bool, eps: Float) -> Tensor {
        let x = contiguous()
        let d = shape[rank - 1]
        let out = Tensor(zeros: Array(shape.dropLast()) + [1])
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(count / max(d, 1), cost: d * 3) { rows in
            for r in rows { p.1.p[r] = normStatistics(p.0.p + r * d, d, layerNorm: layerNorm, eps: eps).scale }
        }
        return out
    }

    /// A norm with its per-row factor given (`normScale`, or a value written over it):
    /// `weight · x · s` (RMSNorm) or `(x - mean) · s · weight + bias` (LayerNorm).
    public func normalized(scale: Tensor, weight: Tensor, bias: Tensor?, layerNorm: Bool) -> Tensor {
        let x = contiguous(), s = scale.contiguous(), w = weight.contiguous()
        let d = shape[rank - 1]
        let b = bias?.contiguous()
        let out = Tensor(zeros: shape)
        let p = (UncheckedPointer(x.floatPointer), UncheckedPointer(s.floatPointer), UncheckedPointer(w.floatPointer),
                 b.map { UncheckedPointer($0.floatPointer) }, UncheckedPointer(out.floatPointer))
        parallelFor(count / max(d, 1), cost: d * 3) { rows in
            let (x, s, w, o) = (p.0.p, p.1.p, p.2.p, p.4.p)
            for r in rows {
                let row = x + r * d, dst = o + r * d, k = s[r]
                if layerNorm {
                    let mean = normStatistics(row, d, layerNorm: true, eps: 0).mean
                    for i in 0..<d { dst[i] = (row[i] - mean) * k * w[i] + (p.3.map { $0.p[i] } ?? 0) }
                } else {
                    for i in 0..<d { dst[i] = w[i] * (row[i] * k) }
                }
            }
        }
        return out
    }
}

/// Rotary position embedding in the "rotate half" layout Hugging Face uses: the
/// first and second halves of each head's dimensions form the rotated pairs.
public enum Rotary {
    /// cos and sin tables [positions.count, rotaryDim / 2] for the given positions.
    public static func tables(positions: [Int], inverseFrequencies: [Float], attentionScaling: Float = 1)
        -> (cos: [Float], sin: [Float]) {
        let half = inverseFrequencies.count
        var c = [Float](repeating: 0, count: positions.count * half)
        var s = c
        for (t, pos) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(pos) * inverseFrequencies[i]
                c[t * half + i] = cosf(angle) * attentionScaling
                s[t * half + i] = sinf(angle) * attentionScaling
            }
        }
        return (c, s)
    }

    /// Rotates `x` [rows, heads, headDim] in place, row r using table row `tableRow[r]`.
    /// `dims` (even, at most headDim) rotates only each head's first dimensions (partial
    /// rotary); the tables then have dims / 2 columns.
    public static func apply(_ x: Tensor, cos: [Float], sin: [Float], tableRow: [Int], dims: Int? = nil) {
        precondition(x.rank == 3 && x.isContiguous, "rotary: expected a contiguous [rows, heads, headDim] tensor")
        let rows = x.shape[0], heads = x.shape[1], d = x.shape[2], half = (dims ?? d) / 2
        let p = x.floatPointer
        cos.withUnsafeBufferPointer { cp in
            sin.withUnsafeBufferPointer { sp in
                for r in 0..<rows {
                    let t = tableRow[r] * half
                    for h in 0..<heads {
                        let v = p + (r * heads + h) * d
                        for i in 0..<half {
                            let x1 = v[i], x2 = v[i + half]
                            let c = cp[t + i], s = sp[t + i]
                            v[i] = x1 * c - x2 * s
                            v[i + half] = x2 * c + x1 * s
                        }
                    }
                }
            }
        }
    }
}
