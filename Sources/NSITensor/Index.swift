extension Tensor {
    /// Picks entries along `dim` by integer `indices` (any shape); the result's `dim`
    /// is replaced by the indices' shape, as `x[..., idx, ...]` does in PyTorch.
    /// Negative indices count from the end. Returns nil when an index is out of range.
    public func indexSelect(dim: Int, indices: Tensor) -> Tensor? {
        let d = axis(dim)
        let n = shape[d]
        var idx = indices.toInts()
        for i in idx.indices {
            if idx[i] < 0 { idx[i] += n }
            if idx[i] < 0 || idx[i] >= n { return nil }
        }
        let src = contiguous()
        let (outer, _, inner) = src.around(d)
        var outShape = Array(shape[..<d])
        outShape += indices.shape
        outShape += shape[(d + 1)...]
        let out = Tensor(zeros: outShape, dtype: dtype)
        let size = dtype.size
        let sp = src.storage.base + src.offset * size, op = out.storage.base
        for o in 0..<outer {
            for (j, i) in idx.enumerated() {
                (op + ((o * idx.count + j) * inner) * size)
                    .copyMemory(from: sp + ((o * n + i) * inner) * size, byteCount: inner * size)
            }
        }
        return out
    }

    /// `torch.gather`: out[i][j][k] = self[i][index[i][j][k]][k] for dim 1, and so on.
    /// `index` has this tensor's rank. Returns nil when an index is out of range.
    public func gather(dim: Int, index: Tensor) -> Tensor? {
        let d = axis(dim)
        guard index.rank == rank else { return nil }
        for k in 0..<rank where k != d && index.shape[k] > shape[k] { return nil }
        let idx = index.contiguous().toInts()
        let src = cast(to: .f32)
        let out = Tensor(zeros: index.shape, dtype: .f32)
        let outStrides = Tensor.contiguousStrides(index.shape)
        let sp = src.storage.base.assumingMemoryBound(to: Float.self)
        for flat in 0..<idx.count {
            var rem = flat, off = src.offset
            for k in 0..<rank {
                var c = rem / outStrides[k]
                rem %= outStrides[k]
                if k == d {
                    c = idx[flat] < 0 ? idx[flat] + shape[d] : idx[flat]
                    if c < 0 || c >= shape[d] { return nil }
                }
                off += c * src.strides[k]
            }
            out.floatPointer[flat] = sp[off]
        }
        return out
    }

    /// `torch.scatter` into a copy: out[i][index[i][j]] = src[i][j] for dim 1, and so on;
    /// with `accumulate`, `+=` (`scatter_add`: an index named twice gets both).
    public func scatter(dim: Int, index: Tensor, source: Tensor, accumulate: Bool = false) -> Tensor? {
        let d = axis(dim)
        guard index.rank == rank, source.rank == rank else { return nil }
        let out = cast(to: .f32).copy()
        let idx = index.contiguous().toInts()
        let srcValues = source.cast(to: .f32)
        let outStrides = Tensor.contiguousStrides(index.shape)
        for k in 0..<rank where index.shape[k] > source.shape[k] || (k != d && index.shape[k] > shape[k]) { return nil }
        for flat in 0..<idx.count {
            var rem = flat, off = 0, srcOff = srcValues.offset
            for k in 0..<rank {
                var c = rem / outStrides[k]
                rem %= outStrides[k]
                srcOff += c * srcValues.strides[k]
                if k == d {
                    c = idx[flat] < 0 ? idx[flat] + shape[d] : idx[flat]
                    if c < 0 || c >= shape[d] { return nil }
                }
                off += c * out.strides[k]
            }
            let v = srcValues.storage.base.assumingMemoryBound(to: Float.self)[srcOff]
            if accumulate { out.floatPointer[off] += v } else { out.floatPointer[off] = v }
        }
        return out
    }

    /// Joins tensors of one dtype along an existing dimension.
    public static func cat(_ parts: [Tensor], dim: Int) -> Tensor {
        precondition(!parts.isEmpty, "cat of no tensors")
        let first = parts[0]
        let d = first.axis(dim)
        for p in parts {
            precondition(p.rank == first.rank && p.dtype == first.dtype, "cat: tensors differ in rank or dtype")
            for k in 0..<first.rank where k != d {
                precondition(p.shape[k] == first.shape[k], "cat: shapes \(describeShape(first.shape)) and \(describeShape(p.shape)) differ outside dimension \(d)")
            }
        }
        var outShape = first.shape
        outShape[d] = parts.reduce(0) { $0 + $1.shape[d] }
        let out = Tensor(zeros: outShape, dtype: first.dtype)
        var at = 0
        for p in parts {
            out.slice(dim: d, start: at, end: at + p.shape[d]).assign(p)
            at += p.shape[d]
        }
        return out
    }

    /// Joins same-shaped tensors along a new dimension.
    public static func stack(_ parts: [Tensor], dim: Int) -> Tensor {
        precondition(!parts.isEmpty, "stack of no tensors")
        let d = dim < 0 ? dim + parts[0].rank + 1 : dim
        return cat(parts.map { $0.unsqueeze(d) }, dim: d)
    }
}
