import Testing
@testable import NSITensor
import NSITestSupport

@Suite struct MatmulTests {
    /// cblas and the naive kernel agree over random shapes, with plain, transposed and
    /// strided (sliced) operands. Tolerance: relative 1e-4.
    @Test func blasMatchesNaiveKernel() {
        var rng = SeededRandom(seed: 42)
        var worst: Float = 0
        for trial in 0..<60 {
            let m = Int.random(in: 1...33, using: &rng), k = Int.random(in: 1...40, using: &rng), n = Int.random(in: 1...29, using: &rng)
            var a = rng.tensor([m, k]), b = rng.tensor([k, n])
            switch trial % 4 {
            case 1: a = rng.tensor([k, m]).mT                       // transposed A
            case 2: b = rng.tensor([n, k]).mT                       // transposed B
            case 3:                                                 // strided views (every other column, an offset row)
                a = rng.tensor([m + 1, 2 * k]).slice(dim: 0, start: 1).slice(dim: 1, step: 2)
                b = rng.tensor([k, n + 3]).slice(dim: 1, start: 2, end: 2 + n)
            default: break
            }
            let fast = a.matmul(b).toFloats()
            let slow = a.contiguous().matmulNaive(b.contiguous()).toFloats()
            let d = maxRelDiff(fast, slow)
            worst = max(worst, d)
            #expect(d < 1e-4, "trial \(trial): [\(m), \(k)] @ [\(k), \(n)] relative difference \(d)")
        }
        print("matmul: max relative difference vs naive over 60 shapes = \(worst)")
    }

    /// A single row takes the sgemv path; both layouts of B and a strided row agree with the oracle.
    @Test func singleRowUsesMatrixVectorProduct() {
        var rng = SeededRandom(seed: 5)
        for (k, n) in [(1, 1), (7, 300), (576, 1536), (33, 2)] {
            let a = rng.tensor([1, k])
            let rowMajor = rng.tensor([k, n]), transposed = rng.tensor([n, k]).mT
            let strided = rng.tensor([k, 3]).mT.slice(dim: 0, start: 1, end: 2)   // [1, k], stride 3 along k
            for b in [rowMajor, transposed] {
                for x in [a, strided] {
                    let d = maxRelDiff(x.matmul(b).toFloats(), x.contiguous().matmulNaive(b.contiguous()).toFloats())
                    #expect(d < 1e-4, "[1, \(k)] @ [\(k), \(n)]: \(d)")
                }
            }
        }
        // Accumulating into an output with a bias (beta = 1), as linear() does.
        let x = rng.tensor([1, 8]), w = rng.tensor([5, 8]), bias = rng.tensor([5])
        let want = zip(x.matmulNaive(w.mT.contiguous()).toFloats(), bias.toFloats()).map { $0 + $1 }
        #expect(maxAbsDiff(x.linear(w, bias: bias).toFloats(), want) < 1e-5)
    }

    @Test func batchedMatmulBroadcastsBatchDimensions() {
        var rng = SeededRandom(seed: 7)
        let a = rng.tensor([2, 3, 4, 5]), b = rng.tensor([3, 5, 6])
        let c = a.matmul(b)
        #expect(c.shape == [2, 3, 4, 6])
        for i in 0..<2 {
            for j in 0..<3 {
                let expected = a.select(dim: 0, index: i).select(dim: 0, index: j).contiguous()
                    .matmulNaive(b.select(dim: 0, index: j).contiguous()).toFloats()
                let got = c.select(dim: 0, index: i).select(dim: 0, index: j).toFloats()
                #expect(maxRelDiff(got, expected) < 1e-4)
            }
        }
        // One shared weight matrix takes the single-GEMM path.
        let w = rng.tensor([5, 7])
        let d = a.matmul(w)
        #expect(d.shape == [2, 3, 4, 7])
        let ref = a.reshape([24, 5]).matmulNaive(w).toFloats()
        #expect(maxRelDiff(d.toFloats(), ref) < 1e-4)
    }

    @Test func vectorOperandsDropTheirDimension() {
        let m = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let v = Tensor(shape: [3], floats: [1, 0, -1])
        #expect(m.matmul(v).shape == [2])
        #expect(m.matmul(v).toFloats() == [-2, -2])
        #expect(v.matmul(m.mT).toFloats() == [-2, -2])
        #expect(v.matmul(v).shape == [])
        #expect(v.matmul(v).item() == 2)
    }

    @Test func linearMatchesDefinition() {
        var rng = SeededRandom(seed: 3)
        let x = rng.tensor([2, 3, 8]), w = rng.tensor([5, 8]), bias = rng.tensor([5])
        let y = x.linear(w, bias: bias)
        #expect(y.shape == [2, 3, 5])
        let ref = x.reshape([6, 8]).matmulNaive(w.mT.contiguous()).toFloats()
        let bv = bias.toFloats()
        let expected = ref.enumerated().map { $0.element + bv[$0.offset % 5] }
        #expect(maxAbsDiff(y.toFloats(), expected) < 1e-5)
    }
}

/// nsi's own few-row kernel (`SmallGemm`) at every instruction level the CPU has, against
/// the double-precision oracle: M = 1...16 and 128, odd K and N (vector tails, weight
/// rows not a multiple of the block), strided rows, beta = 1. Tolerance: relative 1e-4.
@Suite struct SmallGemmTests {
    static let levels: [Int32] = Array(0...SmallGemm.level)

    @Test(arguments: levels)
    func matchesTheOracle(level: Int32) {
        var rng = SeededRandom(seed: UInt64(100 + level))
        var worst: Float = 0
        for m in Array(1...16) + [128] {
            for (k, n) in [(1, 1), (7, 5), (17, 33), (64, 64), (129, 67), (576, 49)] {
                let x = rng.tensor([m, k + 3]).slice(dim: 1, start: 2, end: 2 + k)   // rows k + 3 apart
                let w = rng.tensor([n, k])
                let y = Tensor(zeros: [m, n])
                SmallGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k + 3, w: w.floatPointer, ldw: k,
                              y: y.floatPointer, ldy: n, level: level)
                let want = x.contiguous().matmulNaive(w.mT.contiguous()).toFloats()
                let d = maxRelDiff(y.toFloats(), want)
                worst = max(worst, d)
                #expect(d < 1e-4, "level \(level): [\(m), \(k)] x [\(n), \(k)]ᵀ relative difference \(d)")

                // beta = 1 adds to what is there.
                let base = rng.tensor([m, n]), acc = base.copy()
                SmallGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k + 3, w: w.floatPointer, ldw: k,
                              y: acc.floatPointer, ldy: n, beta: 1, level: level)
                let sum = zip(want, base.toFloats()).map { $0 + $1 }
                #expect(maxRelDiff(acc.toFloats(), sum) < 1e-4, "level \(level): beta = 1, [\(m), \(k)] x [\(n), \(k)]ᵀ")
            }
        }
        print("SmallGemm level \(level) (\(["portable", "avx2", "avx512"][Int(level)])): max relative difference vs naive = \(worst)")
    }

    /// A row's result does not depend on the rows beside it: the same bits alone and in a block.
    @Test(arguments: levels)
    func aRowIsTheSameAloneAndInABlock(level: Int32) {
        var rng = SeededRandom(seed: 7)
        let m = 11, k = 133, n = 70
        let x = rng.tensor([m, k]), w = rng.tensor([n, k])
        let all = Tensor(zeros: [m, n])
        SmallGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k, w: w.floatPointer, ldw: k, y: all.floatPointer, ldy: n, level: level)
        for i in [0, 4, 10] {
            let one = Tensor(zeros: [1, n])
            SmallGemm.run(m: 1, n: n, k: k, x: x.floatPointer + i * k, ldx: k, w: w.floatPointer, ldw: k,
                          y: one.floatPointer, ldy: n, level: level)
            #expect(one.toFloats().map(\.bitPattern) == Array(all.toFloats()[(i * n)..<((i + 1) * n)]).map(\.bitPattern), "row \(i)")
        }
    }

    /// `productHere` (x · w, w stored [k, n]: attention's values) equals the oracle within
    /// relative 1e-4 over row counts 1...9 and 64, odd k and n (column tails of every
    /// vector width), strided x and w.
    @Test(arguments: levels)
    func productMatchesTheOracle(level: Int32) {
        var rng = SeededRandom(seed: UInt64(300 + level))
        var worst: Float = 0
        for m in Array(1...9) + [64] {
            for (k, n) in [(1, 1), (5, 7), (33, 17), (64, 64), (129, 67), (300, 80), (17, 130)] {
                let x = rng.tensor([m, k + 3]).slice(dim: 1, start: 2, end: 2 + k)
                let w = rng.tensor([k, n + 5]).slice(dim: 1, start: 1, end: 1 + n)    // rows n + 5 apart
                let y = Tensor(zeros: [m, n])
                SmallGemm.productHere(m: m, n: n, k: k, x: x.floatPointer, ldx: k + 3, w: w.floatPointer, ldw: n + 5,
                                      y: y.floatPointer, ldy: n, level: level)
                let d = maxRelDiff(y.toFloats(), x.contiguous().matmulNaive(w.contiguous()).toFloats())
                worst = max(worst, d)
                #expect(d < 1e-4, "level \(level): [\(m), \(k)] x [\(k), \(n)] relative difference \(d)")
            }
        }
        print("SmallGemm.productHere level \(level): max relative difference vs naive = \(worst)")
    }

    /// What shared prefixes and the causal bound rely on: a row's bits are the same alone
    /// and in a block, and the same when zero terms past its last nonzero weight are left
    /// out (a smaller k).
    @Test(arguments: levels)
    func aProductRowIsTheSameAloneInABlockAndWithoutItsZeroTail(level: Int32) {
        var rng = SeededRandom(seed: 9)
        let m = 11, k = 150, n = 67
        var xs = rng.tensor([m, k]).toFloats()
        // Row i's weights past position 40 + 9i are zeros, as a causal pattern's are.
        for i in 0..<m { for p in (40 + 9 * i)..<k { xs[i * k + p] = 0 } }
        let x = Tensor(shape: [m, k], floats: xs), w = rng.tensor([k, n])
        let all = Tensor(zeros: [m, n])
        SmallGemm.productHere(m: m, n: n, k: k, x: x.floatPointer, ldx: k, w: w.floatPointer, ldw: n, y: all.floatPointer, ldy: n, level: level)
        for i in [0, 3, 10] {
            let want = Array(all.toFloats()[(i * n)..<((i + 1) * n)]).map(\.bitPattern)
            for keys in [k, 40 + 9 * i] {
                let one = Tensor(zeros: [1, n])
                SmallGemm.productHere(m: 1, n: n, k: keys, x: x.floatPointer + i * k, ldx: k, w: w.floatPointer, ldw: n,
                                      y: one.floatPointer, ldy: n, level: level)
                #expect(one.toFloats().map(\.bitPattern) == want, "row \(i), k = \(keys)")
            }
        }
    }
}

/// Products against weights kept at their stored width (`HalfGemm`), bf16 and f16, at
/// every instruction level the CPU has: equal within relative 1e-4 to the double-precision
/// oracle on the same weights widened to f32, for few rows (the own kernel) and many (the
/// widen-then-sgemm path), odd K and N, strided rows, beta = 1; and `linear` on a half
/// weight equal to `linear` on its f32 widening.
@Suite struct HalfGemmTests {
    static let cases: [(Int32, DType)] = (0...HalfGemm.level).flatMap { l in [(l, DType.bf16), (l, DType.f16)] }

    /// A [n, k] weight of random values rounded to `dtype`, and the same values in f32.
    static func weight(_ rng: inout SeededRandom, _ n: Int, _ k: Int, _ dtype: DType) -> (half: Tensor, wide: Tensor) {
        let values = rng.tensor([n, k]).toFloats()
        let bits = values.map { dtype == .bf16 ? encodeBF16($0) : encodeF16($0) }
        let half = Tensor(zeros: [n, k], dtype: dtype)
        let p = half.storage.base.assumingMemoryBound(to: UInt16.self)
        for (i, b) in bits.enumerated() { p[i] = b }
        let wide = Tensor(shape: [n, k], floats: bits.map { dtype == .bf16 ? decodeBF16($0) : decodeF16($0) })
        return (half, wide)
    }

    @Test(arguments: cases)
    func matchesTheOracleOnTheWidenedWeight(level: Int32, dtype: DType) {
        var rng = SeededRandom(seed: UInt64(200 + level))
        var worst: Float = 0
        for m in [1, 2, 3, 5, 16, 17, 40] {
            for (k, n) in [(1, 1), (7, 5), (17, 33), (129, 67), (576, 130)] {
                let x = rng.tensor([m, k + 3]).slice(dim: 1, start: 2, end: 2 + k)   // rows k + 3 apart
                let (half, wide) = Self.weight(&rng, n, k, dtype)
                let y = Tensor(zeros: [m, n])
                HalfGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k + 3, w: half, y: y.floatPointer, ldy: n, level: level)
                let want = x.contiguous().matmulNaive(wide.mT.contiguous()).toFloats()
                let d = maxRelDiff(y.toFloats(), want)
                worst = max(worst, d)
                #expect(d < 1e-4, "level \(level) \(dtype): [\(m), \(k)] x [\(n), \(k)]ᵀ relative difference \(d)")

                let base = rng.tensor([m, n]), acc = base.copy()
                HalfGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k + 3, w: half, y: acc.floatPointer, ldy: n, beta: 1, level: level)
                #expect(maxRelDiff(acc.toFloats(), zip(want, base.toFloats()).map { $0 + $1 }) < 1e-4, "beta = 1, [\(m), \(k)] x [\(n), \(k)]ᵀ")
            }
        }
        print("HalfGemm level \(level) \(dtype): max relative difference vs naive on the widened weight = \(worst)")
    }

    /// The same sums in the same order as SmallGemm on the widened weight: equal bits.
    /// (Not a single bf16 row on the vector paths: it sums even and odd elements apart,
    /// which the oracle test above covers.)
    @Test(arguments: cases)
    func sameBitsAsTheF32KernelOnTheWidenedWeight(level: Int32, dtype: DType) {
        var rng = SeededRandom(seed: UInt64(300 + level))
        for m in [1, 2, 3, 4, 7, 16] where !(m == 1 && dtype == .bf16 && level >= 1) {
            for (k, n) in [(7, 5), (33, 18), (129, 67), (200, 36)] {
                let x = rng.tensor([m, k])
                let (half, wide) = Self.weight(&rng, n, k, dtype)
                let a = Tensor(zeros: [m, n]), b = Tensor(zeros: [m, n])
                HalfGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k, w: half, y: a.floatPointer, ldy: n, level: level)
                SmallGemm.run(m: m, n: n, k: k, x: x.floatPointer, ldx: k, w: wide.floatPointer, ldw: k, y: b.floatPointer, ldy: n, level: level)
                #expect(a.toFloats().map(\.bitPattern) == b.toFloats().map(\.bitPattern), "level \(level) \(dtype): [\(m), \(k)] x [\(n), \(k)]ᵀ")
            }
        }
    }

    @Test(arguments: [DType.bf16, .f16])
    func linearOnAHalfWeightEqualsLinearOnItsWidening(dtype: DType) {
        var rng = SeededRandom(seed: 9)
        for rows in [1, 12, 48] {
            let (half, wide) = Self.weight(&rng, 70, 96, dtype)
            let x = rng.tensor([rows, 96]), bias = rng.tensor([70])
            let d = maxRelDiff(x.linear(half, bias: bias).toFloats(), x.linear(wide, bias: bias).toFloats())
            #expect(d < 1e-5, "\(rows) rows: relative difference \(d)")
        }
    }

    /// Widening (the vector path the CPU takes) gives every bit pattern's exact value.
    @Test(arguments: [DType.bf16, .f16])
    func wideningIsExactForEveryBitPattern(dtype: DType) {
        let all = Tensor(zeros: [65536], dtype: dtype)
        let p = all.storage.base.assumingMemoryBound(to: UInt16.self)
        for i in 0..<65536 { p[i] = UInt16(i) }
        let wide = all.cast(to: .f32).toFloats()
        var wrong = 0
        for i in 0..<65536 {
            let want = dtype == .bf16 ? decodeBF16(UInt16(i)) : decodeF16(UInt16(i))
            if !(want.isNaN ? wide[i].isNaN : wide[i].bitPattern == want.bitPattern) { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of 65536 \(dtype) patterns widened wrongly")
    }
}
