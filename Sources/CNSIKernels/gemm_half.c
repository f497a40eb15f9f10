// Weights kept at their stored width (bf16 or f16): products read them directly and
// accumulate in f32. A few rows of W at a time are widened to f32 in a small buffer that
// stays in cache, then multiplied by the f32 kernels, so memory traffic is that of the
// 2-byte weights and every output is the same dot product the f32 path computes.
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

void nsi_gemm_xwt_half(int level, int kind, int m, int n0, int n1, int k, const float *x, long ldx,
                       const uint16_t *w, long ldw, float *y, long ldy, float beta) {
    // Rows of W widened at a time: a multiple of 4 (the f32 kernel's block) whose f32
    // copy stays within about 128 KB.
    int chunk = (int)((32768 / (k > 0 ? k : 1)) & ~3);
    if (chunk < 4) chunk = 4;
    if (chunk > 64) chunk = 64;
    float *buf = malloc((size_t)chunk * (size_t)(k > 0 ? k : 1) * sizeof(float));
    if (!buf) abort();
    for (int j = n0; j < n1; j += chunk) {
        int rows = n1 - j < chunk ? n1 - j : chunk;
        for (int r = 0; r < rows; r++) nsi_widen(level, kind, w + (long)(j + r) * ldw, buf + (long)r * k, k);
        nsi_gemm_xwt(level, m, 0, rows, k, x, ldx, buf, k, y + j, ldy, beta);
    }
    free(buf);
}
