import CBLAS

/// A matrix operand as BLAS sees it: a pointer, whether it is transposed, and its
/// leading dimension. Views whose rows or columns are unit-stride need no copy.
struct BLASOperand {
    let pointer: UnsafePointer<Float>
    let transposed: Bool
    let ld: Int
    let keepAlive: Tensor

    /// `m` must be a rank-2 f32 view of shape [rows, cols].
    init(_ m: Tensor) {
        let rows = m.shape[0], cols = m.shape[1]
        if m.strides[1] == 1 && (rows <= 1 || m.strides[0] >= cols) {
            pointer = UnsafePointer(m.floatPointer); transposed = false; ld = max(m.strides[0], max(cols, 1)); keepAlive = m
        } else if m.strides[0] == 1 && (cols <= 1 || m.strides[1] >= rows) {
            pointer = UnsafePointer(m.floatPointer); transposed = true; ld = max(m.strides[1], max(rows, 1)); keepAlive = m
        } else {
            let c = m.copy()
            pointer = UnsafePointer(c.floatPointer); transposed = false; ld = max(cols, 1); keepAlive = c
        }
    }
}

extension Tensor {
    /// C = A @ B for rank-2 f32 views, written into the contiguous `out` [M, N]
    /// (`beta` = 1 accumulates into it).
    static func gemm(_ a: Tensor, _ b: Tensor, into out: Tensor, beta: Float = 0) {
        BLASSetup.prepare()
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        if m == 0 || n == 0 { return }
        if k == 0 { if beta == 0 { out.fill(0) }; return }
        let A = BLASOperand(a), B = BLASOperand(b)
        if m <= SmallGemm.maxRows && B.transposed && !A.transposed {
            // Few rows against a weight stored [n, k]: nsi's own kernel streams the weight
            // in place (sgemm would pack all of it first).
            SmallGemm.run(m: m, n: n, k: k, x: A.pointer, ldx: A.ld, w: B.pointer, ldw: B.ld,
                          y: out.floatPointer, ldy: n, beta: beta)
            withExtendedLifetime((A.keepAlive, B.keepAlive)) {}
            return
        }
        if m == 1 {
            // One row: a matrix-vector product streams B once, where sgemm would first
            // pack all of B (most of the cost of a generation step).
            let incX = Int32(A.transposed ? A.ld : 1)
            if B.transposed {   // B = Wᵀ with W [n, k] row-major: y = W x
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, B.pointer, Int32(B.ld),
                            A.pointer, incX, beta, out.floatPointer, 1)
            } else {            // B [k, n] row-major: y = Bᵀ x
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, B.pointer, Int32(B.ld),
                            A.pointer, incX, beta, out.floatPointer, 1)
            }
            withExtendedLifetime((A.keepAlive, B.keepAlive)) {}
            return
        }
        // OpenBLAS runs single-threaded (see BLASSetup): the columns of the product are
        // split over nsi's own threads, one sgemm each, so one pool drives every core.
        let block = 64
        let a0 = UncheckedPointer(UnsafeMutablePointer(mutating: A.pointer)), b0 = UncheckedPointer(UnsafeMutablePointer(mutating: B.pointer))
        let c0 = UncheckedPointer(out.floatPointer)
        let ta = A.transposed, tb = B.transposed, lda = A.ld, ldb = B.ld
        parallelFor((n + block - 1) / block, cost: m * k * block, grain: 1 << 17) { range in
            let lo = range.lowerBound * block, hi = min(range.upperBound * block, n)
            // Columns lo..<hi of B: rows of the stored [n, k] when transposed, else columns.
            let bp = b0.p + (tb ? lo * ldb : lo)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(hi - lo), Int32(k), 1,
                        a0.p, Int32(lda), bp, Int32(ldb), beta, c0.p + lo, Int32(n))
        }
        withExtendedLifetime((A.keepAlive, B.keepAlive)) {}
    }

    /// Matrix product with PyTorch's rules: 1-D operands are promoted and the added
    /// dimension removed; leading (batch) dimensions broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 1 && other.rank >= 1, "matmul needs at least 1-D operands")
        let a = (dtype == .f32 ? self : cast(to: .f32))
        let b = (other.dtype == .f32 ? other : other.cast(to: .f32))
        let a2 = a.rank == 1 ? a.unsqueeze(0) : a
        let b2 = b.rank == 1 ? b.unsqueeze(1) : b
        let m = a2.shape[a2.rank - 2], k = a2.shape[a2.rank - 1]
        let k2 = b2.shape[b2.rank - 2], n = b2.shape[b2.rank - 1]
        precondition(k == k2, "matmul: \(describeShape(shape)) @ \(describeShape(other.shape)): inner dimensions \(k) and \(k2) differ")
        let batchA = Array(a2.shape.dropLast(2)), batchB = Array(b2.shape.dropLast(2))
        guard let batch = Tensor.broadcastShape(batchA, batchB) else {
            preconditionFailure("matmul: batch dimensions \(describeShape(batchA)) and \(describeShape(batchB)) do not broadcast")
        }
        var result: Tensor
        if batch.isEmpty {
            result = Tensor(zeros: [m, n])
            Tensor.gemm(a2, b2, into: result)
        } else if batchB.allSatisfy({ $0 == 1 }) && a2.isContiguous {
            // One weight matrix for every batch row: a single large GEMM.
            let rows = batch.reduce(1, *) * m
            result = Tensor(zeros: batch + [m, n])
            let bm = b2.reshape([k, n])
            let flat = a2.broadcast(to: batch + [m, k]).contiguous().reshape([rows, k])
            Tensor.gemm(flat, bm, into: result.reshape([rows, n]))
        } else {
            let ab = a2.broadcast(to: batch + [m, k]), bb = b2.broadcast(to: batch + [k, n])
            result = Tensor(zeros: batch + [m, n])
            let count = batch.reduce(1, *)
            let batchStrides = Tensor.contiguousStrides(batch)
            for i in 0..<count {
                var ai = ab, bi = bb, oi = result
                var rem = i
                for s in batchStrides {
                    let c = rem / s
                    rem %= s
                    ai = ai.select(dim: 0, index: c)
                    bi = bi.select(dim: 0, index: c)
                    oi = oi.select(dim: 0, index: c)
                }
                Tensor.gemm(ai, bi, into: oi)
            }
        }
        if rank == 1 { result = result.squeeze(-2) }
        if other.rank == 1 { result = result.squeeze(-1) }
        return result
    }

    /// `x @ weight.T + bias` for a weight stored [out, in], as `nn.Linear` computes it.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(shape.last == inF, "linear: input \(describeShape(shape)) does not end in \(inF)")
        let x = (dtype == .f32 ? self : cast(to: .f32)).contiguous()
        let rows = count / max(inF, 1)
        // Written whole: by the bias then the product, or by the product (beta 0) alone.
        let out = inF == 0 ? Tensor(zeros: Array(shape.dropLast()) + [outF]) : Tensor(uninitialized: Array(shape.dropLast()) + [outF])
        let out2 = out.reshape([rows, outF])
        if weight.dtype == .bf16 || weight.dtype == .f16 {
            // Kept at its stored width: read directly, rows widened in cache (see HalfGemm).
            let w = weight.strides[1] == 1 ? weight : weight.contiguous()
            if let bias { out2.assign(bias.broadcast(to: [rows, outF])) }
            HalfGemm.run(m: rows, n: outF, k: inF, x: x.floatPointer, ldx: inF, w: w,
                         y: out2.floatPointer, ldy: outF, beta: bias == nil ? 0 : 1)
            return out
        }
        if let bias {
            out2.assign(bias.broadcast(to: [rows, outF]))
            Tensor.gemm(x.reshape([rows, inF]), weight.mT, into: out2, beta: 1)
        } else {
            Tensor.gemm(x.reshape([rows, inF]), weight.mT, into: out2)
        }
        return out
    }

    /// The textbook triple loop in double precision: the oracle the BLAS path is tested against.
    public func matmulNaive(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0], "matmulNaive takes [M, K] @ [K, N]")
        let m = shape[0], k = shape[1], n = other.shape[1]
        let a = toFloats(), b = other.toFloats()
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(acc)
            }
        }
        return Tensor(shape: [m, n], floats: c)
    }
}
