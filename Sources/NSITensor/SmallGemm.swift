import CNSIKernels
import Foundation

/// nsi's own product for few rows against a weight stored [n, k] (see gemm_small.c):
/// the weight is streamed in place instead of packed on every call, the rows split over
/// the threads by blocks of weight rows.
public enum SmallGemm {
    /// Up to this many rows the own kernel runs; above, sgemm's packing pays for itself.
    public static let maxRows = 16

    /// The instruction set the kernel uses: 2 AVX-512F, 1 AVX2+FMA, 0 portable C.
    /// `NSI_KERNELS=portable|avx2|avx512` asks for a lower one (never one the CPU lacks).
    public static let level: Int32 = {
        let cpu = CPUFeatures.current
        let best: Int32 = cpu.has("avx512f") ? 2 : (cpu.has("avx2") && cpu.has("fma") ? 1 : 0)
        switch ProcessInfo.processInfo.environment["NSI_KERNELS"]?.lowercased() {
        case "portable": return 0
        case "avx2": return min(best, 1)
        default: return best
        }
    }()

    public static var levelName: String { ["portable", "avx2", "avx512"][Int(level)] }

    /// y[m, n] = x[m, k] · w[n, k]ᵀ (+ beta · y). `x` rows are `ldx` apart, `w` rows `ldw`,
    /// `y` rows `ldy`. `level` defaults to the CPU's; tests pass each one.
    public static func run(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int,
                           w: UnsafePointer<Float>, ldw: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                           beta: Float = 0, level: Int32 = SmallGemm.level) {
        // Chunks start at multiples of 16 weight rows so every column takes the same
        // path whatever the thread count: results do not depend on it.
        let block = 16
        let blocks = (n + block - 1) / block
        let xp = UncheckedPointer(UnsafeMutablePointer(mutating: x)), wp = UncheckedPointer(UnsafeMutablePointer(mutating: w))
        let yp = UncheckedPointer(y)
        parallelFor(blocks, cost: m * k * block, grain: 1 << 16) { range in
            let lo = range.lowerBound * block, hi = min(range.upperBound * block, n)
            nsi_gemm_xwt(level, Int32(m), Int32(lo), Int32(hi), Int32(k), xp.p, ldx, wp.p, ldw, yp.p, ldy, beta)
        }
    }

    /// The same product on the calling thread, for callers that split their work over the
    /// threads themselves (attention, by row and head). Each row's outputs are the bits it
    /// gets beside any other rows, so a window of a row's queries gives the bits the whole
    /// row gives (shared prefixes rely on it).
    public static func runHere(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int,
                               w: UnsafePointer<Float>, ldw: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        nsi_gemm_xwt(level, Int32(m), 0, Int32(n), Int32(k), x, ldx, w, ldw, y, ldy, 0)
    }

    /// y[m, n] = x[m, k] · w[k, n] on the calling thread, for `w` stored [k, n] (values, as
    /// attention's pattern weighs them; no transposed copy). Each output is one chain of
    /// fused multiply-adds over k in order: a row's bits do not depend on the rows beside
    /// it, and zero terms past a row's last nonzero one may be left out (a smaller `k`)
    /// without changing them.
    public static func productHere(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int,
                                   w: UnsafePointer<Float>, ldw: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                                   level: Int32 = SmallGemm.level) {
        nsi_gemm_xw(level, Int32(m), Int32(n), Int32(k), x, ldx, w, ldw, y, ldy)
    }
}
