// Weights kept at their stored width (bf16 or f16): products read them directly and
// accumulate in f32. The vector paths widen each weight vector as it is loaded; the
// portable path widens a few rows at a time into a buffer that stays in cache. Either
// way memory traffic is that of the 2-byte weights, and every output is the same dot
// product, in the same order, as the f32 kernel computes on the widened weight.
#include "nsi_kernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, frac = h & 0x3ff, bits;
    if (exp == 0) {
        if (frac == 0) bits = sign;
        else {   // subnormal: normalize
            int e = -1;
            do { e++; frac <<= 1; } while ((frac & 0x400) == 0);
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (frac & 0x3ff) << 13;
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | frac << 13;
    else bits = sign | (exp + 127 - 15) << 23 | frac << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void widen_portable(int kind, const uint16_t *src, float *dst, long n) {
    if (kind == NSI_BF16) {
        for (long i = 0; i < n; i++) { uint32_t b = (uint32_t)src[i] << 16; memcpy(dst + i, &b, 4); }
    } else {
        for (long i = 0; i < n; i++) dst[i] = f16_to_f32(src[i]);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,f16c")))
static void widen_avx2(int kind, const uint16_t *src, float *dst, long n) {
    long i = 0;
    if (kind == NSI_BF16) {
        for (; i + 8 <= n; i += 8) {
            __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
        }
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    widen_portable(kind, src + i, dst + i, n - i);
}
#endif

void nsi_widen(int level, int kind, const uint16_t *src, float *dst, long n) {
#if defined(__x86_64__)
    // The f16 path needs F16C, which every AVX2 processor has.
    if (level >= 1) { widen_avx2(kind, src, dst, n); return; }
#endif
    (void)level;
    widen_portable(kind, src, dst, n);
}

#if defined(__x86_64__)
// The weight loads of the vector paths: 8 (AVX2) or 16 (AVX-512) elements widened to f32.
#define LOAD8_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
#define LOAD8_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD16_BF16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define LOAD16_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))

static inline float widen1(int kind, uint16_t h) {
    if (kind == NSI_BF16) { uint32_t b = (uint32_t)h << 16; float f; memcpy(&f, &b, 4); return f; }
    return f16_to_f32(h);
}

// The horizontal sum of 8 lanes, in the order gemm_small.c's hsum256 adds them.
__attribute__((target("avx2"), always_inline))
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// As block_avx2 in gemm_small.c (4 weight rows against R rows of X, 8 lanes, then the
// horizontal sum and the scalar tail), with each weight vector widened as it is loaded:
// the same sums in the same order as the f32 kernel on the widened weight.
#define DEFINE_BLOCK_AVX2(NAME, LOAD, KIND)                                                          \
__attribute__((target("avx2,fma,f16c"), always_inline))                                             \
static inline void NAME(const int R, int k, const float *const *xr, const uint16_t *w0, long ldw,  \
                        float *y, long ldy, float beta) {                                           \
    int kv = k & ~7;                                                                                \
    const uint16_t *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;                                  \
    __m256 acc[2][4];                                                                               \
    for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_ps();        \
    for (int p = 0; p < kv; p += 8) {                                                               \
        __m256 b0 = LOAD(w0 + p), b1 = LOAD(w1 + p), b2 = LOAD(w2 + p), b3 = LOAD(w3 + p);          \
        for (int r = 0; r < R; r++) {                                                               \
            __m256 a = _mm256_loadu_ps(xr[r] + p);                                                  \
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                                          \
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                                          \
            acc[r][2] = _mm256_fmadd_ps(a, b2, acc[r][2]);                                          \
            acc[r][3] = _mm256_fmadd_ps(a, b3, acc[r][3]);                                          \
        }                                                                                           \
    }                                                                                               \
    const uint16_t *wc[4] = {w0, w1, w2, w3};                                                       \
    for (int r = 0; r < R; r++)                                                                     \
        for (int c = 0; c < 4; c++) {                                                               \
            float s = hsum8(acc[r][c]);                                                            \
            for (int p = kv; p < k; p++) s += xr[r][p] * widen1(KIND, wc[c][p]);                    \
            float *out = y + (long)r * ldy + c;                                                     \
            *out = beta == 0 ? s : s + beta * *out;                                                 \
        }                                                                                           \
}
DEFINE_BLOCK_AVX2(block_avx2_bf16, LOAD8_BF16, NSI_BF16)
DEFINE_BLOCK_AVX2(block_avx2_f16, LOAD8_F16, NSI_F16)

// One row of X (decoding) against 8 weight rows: 8 independent chains of sums keep the
// FMA units and the memory streams busy where 4 would wait on each sum's latency. Each
// output is still the 8-lane sum above, in the same order.
#define DEFINE_ROW8_AVX2(NAME, LOAD, KIND)                                                           \
__attribute__((target("avx2,fma,f16c"), always_inline))                                             \
static inline void NAME(int k, const float *x, const uint16_t *w0, long ldw, float *y, float beta) { \
    int kv = k & ~7;                                                                                \
    __m256 acc[8];                                                                                  \
    for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();                                       \
    for (int p = 0; p < kv; p += 8) {                                                               \
        __m256 a = _mm256_loadu_ps(x + p);                                                          \
        for (int c = 0; c < 8; c++) acc[c] = _mm256_fmadd_ps(a, LOAD(w0 + c * ldw + p), acc[c]);    \
    }                                                                                               \
    for (int c = 0; c < 8; c++) {                                                                   \
        float s = hsum8(acc[c]);                                                                    \
        for (int p = kv; p < k; p++) s += x[p] * widen1(KIND, w0[c * ldw + p]);                     \
        y[c] = beta == 0 ? s : s + beta * y[c];                                                     \
    }                                                                                               \
}
DEFINE_ROW8_AVX2(row8_avx2_f16, LOAD8_F16, NSI_F16)

// bf16 one row against 8 weight rows, with fewer instructions per weight: 16 bf16 are
// loaded at once, and the even elements (shifted up) and the odd ones (masked) are two
// f32 vectors, multiplied by `xd`, the row of X with each 16 elements stored as its 8
// even then its 8 odd ones. The sums run in another order than the f32 kernel's, still
// all in f32.
__attribute__((target("avx2,fma")))
static void row8_avx2_bf16(int k, const float *x, const float *xd, const uint16_t *w0, long ldw, float *y, float beta) {
    int kv = k & ~15;
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256 acc[8];
    for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
    for (int p = 0; p < kv; p += 16) {
        __m256 even = _mm256_loadu_ps(xd + p), odd = _mm256_loadu_ps(xd + p + 8);
        for (int c = 0; c < 8; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(w0 + c * ldw + p));
            acc[c] = _mm256_fmadd_ps(even, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)), acc[c]);
            acc[c] = _mm256_fmadd_ps(odd, _mm256_castsi256_ps(_mm256_and_si256(v, high)), acc[c]);
        }
    }
    for (int c = 0; c < 8; c++) {
        float s = hsum8(acc[c]);
        for (int p = kv; p < k; p++) s += x[p] * widen1(NSI_BF16, w0[c * ldw + p]);
        y[c] = beta == 0 ? s : s + beta * y[c];
    }
}

// X's row with each 16 elements as its 8 even then its 8 odd ones (for row8_avx2_bf16).
static float *deinterleave16(const float *x, int k) {
    int kv = k & ~15;
    float *xd = malloc((size_t)(kv > 0 ? kv : 1) * sizeof(float));
    if (!xd) abort();
    for (int p = 0; p < kv; p += 16)
        for (int i = 0; i < 8; i++) { xd[p + i] = x[p + 2 * i]; xd[p + 8 + i] = x[p + 2 * i + 1]; }
    return xd;
}

// As block_avx512 in gemm_small.c; the tail of k is widened into a zero-padded vector,
// which is what the f32 kernel's masked load reads.
#define DEFINE_BLOCK_AVX512(NAME, LOAD, KIND)                                                        \
__attribute__((target("avx512f,f16c"), always_inline))                                              \
static inline void NAME(const int R, int k, const float *const *xr, const uint16_t *w0, long ldw,  \
                        float *y, long ldy, float beta) {                                           \
    int kv = k & ~15;                                                                               \
    const uint16_t *wc[4] = {w0, w0 + ldw, w0 + 2 * ldw, w0 + 3 * ldw};                             \
    __m512 acc[4][4];                                                                               \
    for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();        \
    for (int p = 0; p < kv; p += 16) {                                                              \
        __m512 b0 = LOAD(wc[0] + p), b1 = LOAD(wc[1] + p), b2 = LOAD(wc[2] + p), b3 = LOAD(wc[3] + p); \
        for (int r = 0; r < R; r++) {                                                               \
            __m512 a = _mm512_loadu_ps(xr[r] + p);                                                  \
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);                                          \
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);                                          \
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);                                          \
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);                                          \
        }                                                                                           \
    }                                                                                               \
    if (kv < k) {                                                                                   \
        __mmask16 mask = (__mmask16)((1u << (k - kv)) - 1);                                         \
        __m512 b[4];                                                                                \
        for (int c = 0; c < 4; c++) {                                                               \
            float t[16] = {0};                                                                      \
            for (int p = kv; p < k; p++) t[p - kv] = widen1(KIND, wc[c][p]);                        \
            b[c] = _mm512_loadu_ps(t);                                                              \
        }                                                                                           \
        for (int r = 0; r < R; r++) {                                                               \
            __m512 a = _mm512_maskz_loadu_ps(mask, xr[r] + kv);                                     \
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);            \
        }                                                                                           \
    }                                                                                               \
    for (int r = 0; r < R; r++)                                                                     \
        for (int c = 0; c < 4; c++) {                                                               \
            float s = _mm512_reduce_add_ps(acc[r][c]);                                              \
            float *out = y + (long)r * ldy + c;                                                     \
            *out = beta == 0 ? s : s + beta * *out;                                                 \
        }                                                                                           \
}
DEFINE_BLOCK_AVX512(block_avx512_bf16, LOAD16_BF16, NSI_BF16)
DEFINE_BLOCK_AVX512(block_avx512_f16, LOAD16_F16, NSI_F16)

#define BLOCK(level, kind, R, k, xr, w, ldw, y, ldy, beta)                                         \
    do {                                                                                            \
        if (level >= 2) {                                                                           \
            if (kind == NSI_BF16) block_avx512_bf16(R, k, xr, w, ldw, y, ldy, beta);                \
            else block_avx512_f16(R, k, xr, w, ldw, y, ldy, beta);                                  \
        } else {                                                                                    \
            if (kind == NSI_BF16) block_avx2_bf16(R, k, xr, w, ldw, y, ldy, beta);                  \
            else block_avx2_f16(R, k, xr, w, ldw, y, ldy, beta);                                    \
        }                                                                                           \
    } while (0)

// Blocks of 4 weight rows against 2 rows of X (AVX2) or up to 4 (AVX-512), as the f32 kernels.
__attribute__((target("avx2,fma,f16c")))
static void gemm_half_avx2(int kind, int m, int j0, int j1, int k, const float *x, long ldx,
                           const uint16_t *w, long ldw, float *y, long ldy, float beta) {
    float *xd = NULL;
    for (int j = j0; j < j1; j += 4) {
        const uint16_t *wj = w + (long)j * ldw;
        if (m == 1 && j + 8 <= j1) {
            if (kind == NSI_BF16) {
                if (!xd) xd = deinterleave16(x, k);
                row8_avx2_bf16(k, x, xd, wj, ldw, y + j, beta);
            } else row8_avx2_f16(k, x, wj, ldw, y + j, beta);
            j += 4;
            continue;
        }
        int i = 0;
        for (; i + 2 <= m; i += 2) {
            const float *xr[2] = {x + (long)i * ldx, x + (long)(i + 1) * ldx};
            BLOCK(1, kind, 2, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta);
        }
        if (i < m) {
            const float *xr[1] = {x + (long)i * ldx};
            BLOCK(1, kind, 1, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta);
        }
    }
    free(xd);
}

__attribute__((target("avx512f,f16c")))
static void gemm_half_avx512(int kind, int m, int j0, int j1, int k, const float *x, long ldx,
                             const uint16_t *w, long ldw, float *y, long ldy, float beta) {
    float *xd = NULL;
    for (int j = j0; j < j1; j += 4) {
        const uint16_t *wj = w + (long)j * ldw;
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            const float *xr[4] = {x + (long)i * ldx, x + (long)(i + 1) * ldx, x + (long)(i + 2) * ldx, x + (long)(i + 3) * ldx};
            BLOCK(2, kind, 4, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta);
        }
        const float *xr[3];
        for (int r = 0; r < 3; r++) xr[r] = x + (long)(i + r < m ? i + r : i) * ldx;
        switch (m - i) {
        case 3: BLOCK(2, kind, 3, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta); break;
        case 2: BLOCK(2, kind, 2, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta); break;
        case 1: BLOCK(2, kind, 1, k, xr, wj, ldw, y + (long)i * ldy + j, ldy, beta); break;
        default: break;
        }
    }
}
#endif

void nsi_gemm_xwt_half(int level, int kind, int m, int n0, int n1, int k, const float *x, long ldx,
                       const uint16_t *w, long ldw, float *y, long ldy, float beta) {
    int j = n0;
#if defined(__x86_64__)
    // Whole blocks of 4 weight rows straight from the 2-byte weight.
    int whole = n0 + ((n1 - n0) & ~3);
    if (level >= 2) { gemm_half_avx512(kind, m, n0, whole, k, x, ldx, w, ldw, y, ldy, beta); j = whole; }
    else if (level == 1) { gemm_half_avx2(kind, m, n0, whole, k, x, ldx, w, ldw, y, ldy, beta); j = whole; }
#endif
    if (j >= n1) return;
    // The rest (and everything on the portable path): rows widened into a buffer that
    // stays in cache, then the f32 kernel, whose own handling of a last partial block of
    // rows this keeps. Chunks are a multiple of 4 rows of about 128 KB.
    int chunk = (int)((32768 / (k > 0 ? k : 1)) & ~3);
    if (chunk < 4) chunk = 4;
    if (chunk > 64) chunk = 64;
    float *buf = malloc((size_t)chunk * (size_t)(k > 0 ? k : 1) * sizeof(float));
    if (!buf) abort();
    for (; j < n1; j += chunk) {
        int rows = n1 - j < chunk ? n1 - j : chunk;
        for (int r = 0; r < rows; r++) nsi_widen(level, kind, w + (long)(j + r) * ldw, buf + (long)r * k, k);
        nsi_gemm_xwt(level, m, 0, rows, k, x, ldx, buf, k, y + j, ldy, beta);
    }
    free(buf);
}
