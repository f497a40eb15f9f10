import CBLAS
import CNSIKernels
import Foundation

/// Products against weights kept at their stored width (bf16 or f16, see gemm_half.c):
/// activations and sums stay f32, and the weight is read at 2 bytes an element.
public enum HalfGemm {
    /// The kernels' instruction set: SmallGemm's, without the vector paths on a processor
    /// lacking F16C.
    public static let level: Int32 = SmallGemm.level >= 1 && !CPUFeatures.current.has("f16c") ? 0 : SmallGemm.level

    static func kind(_ dtype: DType) -> Int32 {
        switch dtype {
        case .bf16: return Int32(NSI_BF16)
        case .f16: return Int32(NSI_F16)
        default: preconditionFailure("HalfGemm: \(dtype) is not a 2-byte float")
        }
    }

    /// y[m, n] = x[m, k] · wᵀ (+ beta · y) for `w` [n, k] in bf16 or f16 with unit-stride
    /// rows; `x` rows are `ldx` apart and `y` rows `ldy`.
    public static func run(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, w: Tensor,
                           y: UnsafeMutablePointer<Float>, ldy: Int, beta: Float = 0, level: Int32 = HalfGemm.level) {
        precondition(w.rank == 2 && w.shape == [n, k] && w.strides[1] == 1, "HalfGemm: weight must be [n, k] with unit-stride rows")
        if m == 0 || n == 0 { return }
        let kind = kind(w.dtype), ldw = w.strides[0]
        let wp = UncheckedPointer(UnsafeMutablePointer(mutating: w.storage.base.assumingMemoryBound(to: UInt16.self) + w.offset))
        let xp = UncheckedPointer(UnsafeMutablePointer(mutating: x)), yp = UncheckedPointer(y)
        if m <= SmallGemm.maxRows {
            // Blocks of 16 weight rows, as SmallGemm splits them: results do not depend on the thread count.
            let block = 16
            parallelFor((n + block - 1) / block, cost: m * k * block, grain: 1 << 16) { range in
                let lo = range.lowerBound * block, hi = min(range.upperBound * block, n)
                nsi_gemm_xwt_half(level, kind, Int32(m), Int32(lo), Int32(hi), Int32(k), xp.p, ldx, wp.p, ldw, yp.p, ldy, beta)
            }
            withExtendedLifetime(w) {}
            return
        }
        // More rows: each task widens 64 weight rows at a time into f32 and hands them to sgemm.
        BLASSetup.prepare()
        let block = 64
        parallelFor((n + block - 1) / block, cost: m * k * block, grain: 1 << 17) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: block * k)
            defer { buffer.deallocate() }
            var lo = range.lowerBound * block
            let end = min(range.upperBound * block, n)
            while lo < end {
                let rows = min(block, end - lo)
                for r in 0..<rows { nsi_widen(level, kind, wp.p + (lo + r) * ldw, buffer + r * k, k) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(rows), Int32(k), 1,
                            xp.p, Int32(ldx), buffer, Int32(k), beta, yp.p + lo, Int32(ldy))
                lo += rows
            }
        }
        withExtendedLifetime(w) {}
    }

    /// `n` elements of bf16 or f16 widened to f32.
    static func widen(_ dtype: DType, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        nsi_widen(level, kind(dtype), src, dst, n)
    }
}
