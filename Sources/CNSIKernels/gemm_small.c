// Products with few rows, Y = X Wᵀ (+ beta Y), for X [m, k] and a weight W [n, k] stored
// row-major as checkpoints store linear layers. With m small (decoding, short prompts)
// the product is bound by reading W once; OpenBLAS's sgemm first packs all of W into a
// buffer on every call, which costs as much again. Here W is streamed in place: each
// block of W rows is read once from memory and used against every row of X while it
// sits in L1. Every output is one dot product over k in a fixed order, so a row's
// result does not depend on the other rows (nor on how m is split).
#include "nsi_kernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
// Runs BLOCK(R, xr, i) over the rows of X four at a time (xr: the rows' starts, i: the
// first row's index), then over the last 1 to 3 together. R is a constant at each
// expansion, so a block's loops unroll and no lane does another row's work.
#define EACH_ROW_BLOCK(m, x, ldx, BLOCK) do { \
    int i_ = 0; \
    for (; i_ + 4 <= (m); i_ += 4) { \
        const float *xr_[4] = {(x) + (long)i_ * (ldx), (x) + (long)(i_ + 1) * (ldx), \
                               (x) + (long)(i_ + 2) * (ldx), (x) + (long)(i_ + 3) * (ldx)}; \
        BLOCK(4, xr_, i_); \
    } \
    const float *xt_[3]; \
    for (int r_ = 0; r_ < 3; r_++) xt_[r_] = (x) + (long)(i_ + r_ < (m) ? i_ + r_ : i_) * (ldx); \
    switch ((m) - i_) { \
    case 3: BLOCK(3, xt_, i_); break; \
    case 2: BLOCK(2, xt_, i_); break; \
    case 1: BLOCK(1, xt_, i_); break; \
    default: break; \
    } \
} while (0)
#endif

static void gemm_xwt_portable(int m, int n0, int n1, int k, const float *x, long ldx,
                              const float *w, long ldw, float *y, long ldy, float beta) {
    for (int j = n0; j < n1; j++) {
        const float *wj = w + (long)j * ldw;
        for (int i = 0; i < m; i++) {
            const float *xi = x + (long)i * ldx;
            // 8 partial sums, as the vector paths keep, so the order is fixed per row.
            float acc[8] = {0};
            int p = 0;
            for (; p + 8 <= k; p += 8)
                for (int l = 0; l < 8; l++) acc[l] += xi[p + l] * wj[p + l];
            float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            for (; p < k; p++) s += xi[p] * wj[p];
            float *out = y + (long)i * ldy + j;
            *out = beta == 0 ? s : s + beta * *out;
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// 4 rows of W against R (1 or 2) rows of X: 4R accumulators of 8 lanes, which with the
// 4 weight vectors and one row vector fit the 16 ymm registers (R = 3 would spill). R is
// a constant at each call, so the loops unroll and no lane does another row's work.
__attribute__((target("avx2,fma"), always_inline))
static inline void block_avx2(const int R, int k, const float *const *xr, const float *w0, long ldw,
                              float *y, long ldy, float beta) {
    int kv = k & ~7;
    const float *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    __m256 acc[2][4];
    for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_ps();
    for (int p = 0; p < kv; p += 8) {
        __m256 b0 = _mm256_loadu_ps(w0 + p), b1 = _mm256_loadu_ps(w1 + p);
        __m256 b2 = _mm256_loadu_ps(w2 + p), b3 = _mm256_loadu_ps(w3 + p);
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_loadu_ps(xr[r] + p);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm256_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm256_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    const float *wc[4] = {w0, w1, w2, w3};
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 4; c++) {
            float s = hsum256(acc[r][c]);
            for (int p = kv; p < k; p++) s += xr[r][p] * wc[c][p];
            float *out = y + (long)r * ldy + c;
            *out = beta == 0 ? s : s + beta * *out;
        }
}

__attribute__((target("avx2,fma")))
static void gemm_xwt_avx2(int m, int n0, int n1, int k, const float *x, long ldx,
                          const float *w, long ldw, float *y, long ldy, float beta) {
    int j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *wj = w + (long)j * ldw;
        int i = 0;
        for (; i + 2 <= m; i += 2) {
            const float *xr[2] = {x + (long)i * ldx, x + (long)(i + 1) * ldx};
            block_avx2(2, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta);
        }
        if (i < m) {
            const float *xr[1] = {x + (long)i * ldx};
            block_avx2(1, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta);
        }
    }
    if (j < n1) gemm_xwt_portable(m, j, n1, k, x, ldx, w, ldw, y, ldy, beta);
}

// 4 rows of W against R (1 to 4) rows of X: 4R accumulators of 16 lanes; the tail of k
// is one masked step, so the order of the sums is fixed.
__attribute__((target("avx512f"), always_inline))
static inline void block_avx512(const int R, int k, const float *const *xr, const float *w0, long ldw,
                                float *y, long ldy, float beta) {
    int kv = k & ~15;
    const float *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    __m512 acc[4][4];
    for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    for (int p = 0; p < kv; p += 16) {
        __m512 b0 = _mm512_loadu_ps(w0 + p), b1 = _mm512_loadu_ps(w1 + p);
        __m512 b2 = _mm512_loadu_ps(w2 + p), b3 = _mm512_loadu_ps(w3 + p);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_loadu_ps(xr[r] + p);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    if (kv < k) {
        __mmask16 mask = (__mmask16)((1u << (k - kv)) - 1);
        __m512 b0 = _mm512_maskz_loadu_ps(mask, w0 + kv), b1 = _mm512_maskz_loadu_ps(mask, w1 + kv);
        __m512 b2 = _mm512_maskz_loadu_ps(mask, w2 + kv), b3 = _mm512_maskz_loadu_ps(mask, w3 + kv);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_maskz_loadu_ps(mask, xr[r] + kv);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 4; c++) {
            float s = _mm512_reduce_add_ps(acc[r][c]);
            float *out = y + (long)r * ldy + c;
            *out = beta == 0 ? s : s + beta * *out;
        }
}

__attribute__((target("avx512f")))
static void gemm_xwt_avx512(int m, int n0, int n1, int k, const float *x, long ldx,
                            const float *w, long ldw, float *y, long ldy, float beta) {
    int kv = k & ~15;
    int j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *wj = w + (long)j * ldw;
#define XWT_BLOCK(R, xr, i) block_avx512(R, k, xr, wj, ldw, y + (long)(i) * ldy + j, ldy, beta)
        EACH_ROW_BLOCK(m, x, ldx, XWT_BLOCK);
#undef XWT_BLOCK
    }
    // The last rows of W (fewer than 4) one at a time, the same way.
    for (; j < n1; j++) {
        const float *wj = w + (long)j * ldw;
        for (int i = 0; i < m; i++) {
            const float *xi = x + (long)i * ldx;
            __m512 acc = _mm512_setzero_ps();
            for (int p = 0; p < kv; p += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(xi + p), _mm512_loadu_ps(wj + p), acc);
            if (kv < k) {
                __mmask16 mask = (__mmask16)((1u << (k - kv)) - 1);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, xi + kv), _mm512_maskz_loadu_ps(mask, wj + kv), acc);
            }
            float s = _mm512_reduce_add_ps(acc);
            float *out = y + (long)i * ldy + j;
            *out = beta == 0 ? s : s + beta * *out;
        }
    }
}
#endif

void nsi_gemm_xwt(int level, int m, int n0, int n1, int k, const float *x, long ldx,
                  const float *w, long ldw, float *y, long ldy, float beta) {
#if defined(__x86_64__)
    if (level >= 2) { gemm_xwt_avx512(m, n0, n1, k, x, ldx, w, ldw, y, ldy, beta); return; }
    if (level == 1) { gemm_xwt_avx2(m, n0, n1, k, x, ldx, w, ldw, y, ldy, beta); return; }
#endif
    (void)level;
    gemm_xwt_portable(m, n0, n1, k, x, ldx, w, ldw, y, ldy, beta);
}

// Y = X W for W stored [k, n] row-major (values as the attention's pattern weighs them):
// each output is one chain of fused multiply-adds over p = 0 ..< k in order, from 0, so a
// row's outputs do not depend on the other rows, on how the columns are split, nor on
// zero terms past the last nonzero one (a zero term leaves the sum as it is).
static void gemm_xw_portable(int m, int n, int k, const float *x, long ldx, const float *w, long ldw,
                             float *y, long ldy) {
    for (int i = 0; i < m; i++) {
        const float *xi = x + (long)i * ldx;
        float *yi = y + (long)i * ldy;
        for (int j = 0; j < n; j++) yi[j] = 0;
        for (int p = 0; p < k; p++) {
            const float a = xi[p], *wp = w + (long)p * ldw;
            for (int j = 0; j < n; j++) yi[j] = fmaf(a, wp[j], yi[j]);
        }
    }
}

#if defined(__x86_64__)
// R (1 to 4) rows of X against 16 columns of W (8 + 8), with the scalar chain for the
// last columns (fmaf gives the bits a vector lane gives).
__attribute__((target("avx2,fma"), always_inline))
static inline void xw_block_avx2(const int R, int k, const float *const *xr, const float *w, long ldw,
                                 float *y, long ldy, int cols) {
    __m256 acc[4][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    if (cols == 16) {
        for (int p = 0; p < k; p++) {
            __m256 b0 = _mm256_loadu_ps(w + (long)p * ldw), b1 = _mm256_loadu_ps(w + (long)p * ldw + 8);
            for (int r = 0; r < R; r++) {
                __m256 a = _mm256_broadcast_ss(xr[r] + p);
                acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
            }
        }
        for (int r = 0; r < R; r++) {
            _mm256_storeu_ps(y + (long)r * ldy, acc[r][0]);
            _mm256_storeu_ps(y + (long)r * ldy + 8, acc[r][1]);
        }
        return;
    }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < cols; j++) {
            float s = 0;
            for (int p = 0; p < k; p++) s = fmaf(xr[r][p], w[(long)p * ldw + j], s);
            y[(long)r * ldy + j] = s;
        }
}

__attribute__((target("avx2,fma")))
static void gemm_xw_avx2(int m, int n, int k, const float *x, long ldx, const float *w, long ldw,
                         float *y, long ldy) {
    for (int j = 0; j < n; j += 16) {
        int cols = n - j < 16 ? n - j : 16;
#define XW_BLOCK(R, xr, i) xw_block_avx2(R, k, xr, w + j, ldw, y + (long)(i) * ldy + j, ldy, cols)
        EACH_ROW_BLOCK(m, x, ldx, XW_BLOCK);
#undef XW_BLOCK
    }
}

// R (1 to 4) rows of X against up to 64 columns of W (4 vectors of 16, the last masked).
__attribute__((target("avx512f"), always_inline))
static inline void xw_block_avx512(const int R, int k, const float *const *xr, const float *w, long ldw,
                                   float *y, long ldy, int cols) {
    __mmask16 mask[4];
    for (int c = 0; c < 4; c++) {
        int left = cols - 16 * c;
        mask[c] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
    }
    __m512 acc[4][4];
    for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        const float *wp = w + (long)p * ldw;
        __m512 b0 = _mm512_maskz_loadu_ps(mask[0], wp), b1 = _mm512_maskz_loadu_ps(mask[1], wp + 16);
        __m512 b2 = _mm512_maskz_loadu_ps(mask[2], wp + 32), b3 = _mm512_maskz_loadu_ps(mask[3], wp + 48);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(xr[r][p]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 4; c++)
            if (mask[c]) _mm512_mask_storeu_ps(y + (long)r * ldy + 16 * c, mask[c], acc[r][c]);
}

__attribute__((target("avx512f")))
static void gemm_xw_avx512(int m, int n, int k, const float *x, long ldx, const float *w, long ldw,
                           float *y, long ldy) {
    for (int j = 0; j < n; j += 64) {
        int cols = n - j < 64 ? n - j : 64;
#define XW_BLOCK(R, xr, i) xw_block_avx512(R, k, xr, w + j, ldw, y + (long)(i) * ldy + j, ldy, cols)
        EACH_ROW_BLOCK(m, x, ldx, XW_BLOCK);
#undef XW_BLOCK
    }
}
#endif

void nsi_gemm_xw(int level, int m, int n, int k, const float *x, long ldx, const float *w, long ldw,
                 float *y, long ldy) {
#if defined(__x86_64__)
    if (level >= 2) { gemm_xw_avx512(m, n, k, x, ldx, w, ldw, y, ldy); return; }
    if (level == 1) { gemm_xw_avx2(m, n, k, x, ldx, w, ldw, y, ldy); return; }
#endif
    (void)level;
    gemm_xw_portable(m, n, k, x, ldx, w, ldw, y, ldy);
}
