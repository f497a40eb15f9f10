import Foundation

public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, mean, max, min, argmax, argmin, norm
}

extension Tensor {
    /// Splits the shape around `d` as [outer, n, inner] for loops over a contiguous copy.
    func around(_ d: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<d].reduce(1, *), shape[d], shape[(d + 1)...].reduce(1, *))
    }

    /// Reduces along `dim` (or over every element when `dim` is nil). `argmax`/`argmin`
    /// give i64 indices (the first of equal values), the others f32; `norm` is the L2 norm.
    public func reduce(_ op: ReduceOp, dim: Int? = nil, keepdim: Bool = false) -> Tensor {
        guard let dim else {
            let flat = contiguous().reshape([count])
            let r = flat.reduce(op, dim: 0)
            return keepdim ? r.reshape([Int](repeating: 1, count: rank)) : r
        }
        let d = axis(dim)
        precondition(shape[d] > 0 || op == .sum || op == .mean || op == .norm,
                     "\(op) over an empty dimension")
        let src = (dtype == .f32 ? self : cast(to: .f32)).contiguous()
        let (outer, n, inner) = src.around(d)
        var outShape = shape
        if keepdim { outShape[d] = 1 } else { outShape.remove(at: d) }
        let isArg = op == .argmax || op == .argmin
        let out = Tensor(zeros: outShape, dtype: isArg ? .i64 : .f32)
        let s = src.floatPointer
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                switch op {
                case .sum, .mean, .norm:
                    var acc = 0.0
                    for k in 0..<n {
                        let v = Double(s[base + k * inner])
                        acc += op == .norm ? v * v : v
                    }
                    let r = op == .mean ? acc / Double(n) : (op == .norm ? acc.squareRoot() : acc)
                    out.storage.base.assumingMemoryBound(to: Float.self)[o * inner + i] = Float(r)
                case .max, .min, .argmax, .argmin:
                    var best = s[base]
                    var at = 0
                    let wantMax = op == .max || op == .argmax
                    for k in 1..<Swift.max(n, 1) {
                        let v = s[base + k * inner]
                        // NaN wins, like PyTorch's max.
                        if best.isNaN { break }
                        if v.isNaN || (wantMax ? v > best : v < best) { best = v; at = k }
                    }
                    if isArg {
                        out.storage.base.assumingMemoryBound(to: Int64.self)[o * inner + i] = Int64(at)
                    } else {
                        out.storage.base.assumingMemoryBound(to: Float.self)[o * inner + i] = best
                    }
                }
            }
        }
        return out
    }

    public func sum(dim: Int? = nil, keepdim: Bool = false) -> Tensor { reduce(.sum, dim: dim, keepdim: keepdim) }
    public func mean(dim: Int? = nil, keepdim: Bool = false) -> Tensor { reduce(.mean, dim: dim, keepdim: keepdim) }
    public func argmax(dim: Int? = nil, keepdim: Bool = false) -> Tensor { reduce(.argmax, dim: dim, keepdim: keepdim) }

    /// Softmax along `dim`, computed stably (max subtracted first).
    public func softmax(dim: Int) -> Tensor { softmaxLike(dim: dim, log: false) }

    public func logSoftmax(dim: Int) -> Tensor { softmaxLike(dim: dim, log: true) }

    private func softmaxLike(dim: Int, log: Bool) -> Tensor {
        let d = axis(dim)
        let src = (dtype == .f32 ? self : cast(to: .f32)).contiguous()
        let (outer, n, inner) = src.around(d)
        let out = Tensor(zeros: shape, dtype: .f32)
        let p = (UncheckedPointer(src.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(outer * inner, cost: n * 4) { range in
            let (s, o) = (p.0.p, p.1.p)
            for r in range {
                let base = (r / inner) * n * inner + r % inner
                var m = -Float.infinity
                for k in 0..<n { m = Swift.max(m, s[base + k * inner]) }
                var total: Float = 0
                for k in 0..<n {
                    let e = expf(s[base + k * inner] - m)
                    o[base + k * inner] = e
                    total += e
                }
                if log {
                    let lse = logf(total)
                    for k in 0..<n { o[base + k * inner] = s[base + k * inner] - m - lse }
                } else {
                    let inv = 1 / total
                    for k in 0..<n { o[base + k * inner] *= inv }
                }
            }
        }
        return out
    }

    /// The `k` largest values along `dim` in descending order, with their i64 indices;
    /// ties keep the lower index first.
    public func topk(_ k: Int, dim: Int = -1) -> (values: Tensor, indices: Tensor) {
        let d = axis(dim)
        precondition(k >= 0 && k <= shape[d], "topk: k = \(k) but dimension \(d) has size \(shape[d])")
        let moved = transpose(d, rank - 1).contiguous()
        let n = shape[d]
        let rows = n == 0 ? 0 : moved.count / n
        var outShape = moved.shape
        outShape[outShape.count - 1] = k
        let values = Tensor(zeros: outShape, dtype: .f32)
        let indices = Tensor(zeros: outShape, dtype: .i64)
        let s = moved.floatPointer
        for r in 0..<rows {
            let row = UnsafeBufferPointer(start: s + r * n, count: n)
            // NaN sorts first, as PyTorch's topk does.
            let order = (0..<n).sorted { a, b in
                let x = row[a], y = row[b]
                if x.isNaN != y.isNaN { return x.isNaN }
                return x > y || (x == y && a < b)
            }
            for j in 0..<k {
                values.floatPointer[r * k + j] = row[order[j]]
                indices.int64Pointer[r * k + j] = Int64(order[j])
            }
        }
        return (values.transpose(d, rank - 1).contiguous(), indices.transpose(d, rank - 1).contiguous())
    }
}
