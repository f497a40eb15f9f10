/// Views share storage with the tensor they come from; none of these copy data
/// except `reshape` when the strides make a view impossible.
extension Tensor {
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// Elements `start..<end` (stepping by `step`) along `dim`. Bounds are clamped
    /// like Python slices; negative bounds count from the end.
    public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) -> Tensor {
        precondition(step > 0, "slice step must be positive")
        let d = axis(dim)
        let n = shape[d]
        func clamp(_ v: Int?, _ fallback: Int) -> Int {
            guard var v else { return fallback }
            if v < 0 { v += n }
            return min(max(v, 0), n)
        }
        let lo = clamp(start, 0)
        let hi = max(clamp(end, n), lo)
        var newShape = shape
        newShape[d] = (hi - lo + step - 1) / step
        var newStrides = strides
        newStrides[d] = strides[d] * step
        return view(shape: newShape, strides: newStrides, offset: offset + lo * strides[d])
    }

    /// Element `index` along `dim`, removing that dimension. Negative indices count from the end.
    public func select(dim: Int, index: Int) -> Tensor {
        let d = axis(dim)
        let i = index < 0 ? index + shape[d] : index
        precondition(i >= 0 && i < shape[d], "index \(index) out of range for dimension \(d) of size \(shape[d])")
        var newShape = shape
        var newStrides = strides
        newShape.remove(at: d)
        newStrides.remove(at: d)
        return view(shape: newShape, strides: newStrides, offset: offset + i * strides[d])
    }

    public func transpose(_ a: Int, _ b: Int) -> Tensor {
        let x = axis(a), y = axis(b)
        var s = shape, st = strides
        s.swapAt(x, y)
        st.swapAt(x, y)
        return view(shape: s, strides: st, offset: offset)
    }

    /// The transpose of a matrix (the last two dimensions).
    public var mT: Tensor { transpose(-2, -1) }

    public func permute(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order.map { axis($0) }).count == rank, "bad permutation \(order)")
        let o = order.map { axis($0) }
        return view(shape: o.map { shape[$0] }, strides: o.map { strides[$0] }, offset: offset)
    }

    public func unsqueeze(_ dim: Int) -> Tensor {
        let d = dim < 0 ? dim + rank + 1 : dim
        precondition(d >= 0 && d <= rank, "unsqueeze dimension \(dim) out of range for rank \(rank)")
        var s = shape, st = strides
        s.insert(1, at: d)
        st.insert(d < rank ? strides[d] * shape[d] : 1, at: d)
        return view(shape: s, strides: st, offset: offset)
    }

    /// Removes `dim` if it has size 1, or every size-1 dimension when `dim` is nil.
    public func squeeze(_ dim: Int? = nil) -> Tensor {
        if let dim {
            let d = axis(dim)
            guard shape[d] == 1 else { return self }
            var s = shape, st = strides
            s.remove(at: d)
            st.remove(at: d)
            return view(shape: s, strides: st, offset: offset)
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return view(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// Resolves one `-1` in a requested shape.
    public static func inferShape(_ requested: [Int], count: Int) -> [Int]? {
        var s = requested
        let unknown = s.indices.filter { s[$0] == -1 }
        if unknown.count > 1 || s.contains(where: { $0 < -1 }) { return nil }
        let known = s.filter { $0 != -1 }.reduce(1, *)
        if let u = unknown.first {
            guard known > 0, count % known == 0 else { return nil }
            s[u] = count / known
        }
        return s.reduce(1, *) == count ? s : nil
    }

    /// A view with a new shape when the layout allows one, else a contiguous copy.
    public func reshape(_ newShape: [Int]) -> Tensor {
        guard let s = Tensor.inferShape(newShape, count: count) else {
            preconditionFailure("cannot reshape \(describeShape(shape)) to \(describeShape(newShape))")
        }
        if isContiguous { return view(shape: s, strides: Tensor.contiguousStrides(s), offset: offset) }
        if let st = viewStrides(for: s) { return view(shape: s, strides: st, offset: offset) }
        return copy().reshape(s)
    }

    /// Strides that present this view with shape `s` without copying, if they exist:
    /// groups of old dimensions that are contiguous among themselves can be split or merged.
    func viewStrides(for s: [Int]) -> [Int]? {
        let old = zip(shape, strides).filter { $0.0 != 1 }
        var result = [Int](repeating: 0, count: s.count)
        var oi = 0, ni = 0
        while ni < s.count {
            if s[ni] == 1 { result[ni] = 1; ni += 1; continue }
            guard oi < old.count else { return nil }
            // Take a run of old dims that is contiguous and whose product covers the new dims.
            var oldProd = old[oi].0
            var oj = oi
            var newProd = s[ni]
            var nj = ni
            while oldProd != newProd {
                if oldProd < newProd {
                    oj += 1
                    guard oj < old.count, old[oj - 1].1 == old[oj].1 * old[oj].0 else { return nil }
                    oldProd *= old[oj].0
                } else {
                    nj += 1
                    guard nj < s.count else { return nil }
                    newProd *= s[nj]
                }
            }
            var st = old[oj].1
            for k in stride(from: nj, through: ni, by: -1) {
                result[k] = st
                st *= s[k]
            }
            oi = oj + 1
            ni = nj + 1
        }
        return oi == old.count ? result : nil
    }

    /// Shape that `a` and `b` broadcast to (NumPy rules), or nil.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// A stride-0 view of this tensor with shape `target` (NumPy broadcasting).
    public func broadcast(to target: [Int]) -> Tensor {
        precondition(target.count >= rank, "cannot broadcast \(describeShape(shape)) to \(describeShape(target))")
        var st = [Int](repeating: 0, count: target.count)
        let lead = target.count - rank
        for i in 0..<rank {
            if shape[i] == target[lead + i] { st[lead + i] = strides[i] }
            else {
                precondition(shape[i] == 1, "cannot broadcast \(describeShape(shape)) to \(describeShape(target))")
                st[lead + i] = 0
            }
        }
        return view(shape: target, strides: st, offset: offset)
    }

    /// Writes `source` (broadcast to this view's shape, same dtype or converted) into
    /// this view's elements, in place.
    public func assign(_ source: Tensor) {
        let src = (source.dtype == dtype ? source : source.cast(to: dtype)).broadcast(to: shape)
        let size = dtype.size
        let dst = storage.base, sp = src.storage.base
        if rank == 2, size == 4, strides[1] == 1, src.strides[0] == 1, src.strides[1] > 1, shape[0] >= 16, shape[1] >= 16 {
            // A transpose (`x.mT.contiguous()`): by tiles, so that reads and writes both stay in cache lines.
            let d = dst.assumingMemoryBound(to: UInt32.self) + offset, s = sp.assumingMemoryBound(to: UInt32.self) + src.offset
            let rows = shape[0], cols = shape[1], ld = strides[0], ls = src.strides[1], tile = 32
            for r0 in stride(from: 0, to: rows, by: tile) {
                for c0 in stride(from: 0, to: cols, by: tile) {
                    for c in c0..<min(c0 + tile, cols) {
                        for r in r0..<min(r0 + tile, rows) { d[r * ld + c] = s[r + c * ls] }
                    }
                }
            }
            return
        }
        forEachRow(shape: shape, strides: [strides, src.strides], offsets: [offset, src.offset]) { offs, n, inner in
            if inner[0] == 1 && inner[1] == 1 {
                (dst + offs[0] * size).copyMemory(from: sp + offs[1] * size, byteCount: n * size)
                return
            }
            switch size {
            case 4:
                let d = dst.assumingMemoryBound(to: UInt32.self), s = sp.assumingMemoryBound(to: UInt32.self)
                for i in 0..<n { d[offs[0] + i * inner[0]] = s[offs[1] + i * inner[1]] }
            case 8:
                let d = dst.assumingMemoryBound(to: UInt64.self), s = sp.assumingMemoryBound(to: UInt64.self)
                for i in 0..<n { d[offs[0] + i * inner[0]] = s[offs[1] + i * inner[1]] }
            case 2:
                let d = dst.assumingMemoryBound(to: UInt16.self), s = sp.assumingMemoryBound(to: UInt16.self)
                for i in 0..<n { d[offs[0] + i * inner[0]] = s[offs[1] + i * inner[1]] }
            default:
                let d = dst.assumingMemoryBound(to: UInt8.self), s = sp.assumingMemoryBound(to: UInt8.self)
                for i in 0..<n { d[offs[0] + i * inner[0]] = s[offs[1] + i * inner[1]] }
            }
        }
    }

    /// Sets every element of this f32 view to `value`, in place.
    public func fill(_ value: Float) {
        assign(Tensor(scalar: value))
    }
}
