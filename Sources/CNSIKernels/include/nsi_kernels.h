// nsi's own CPU code: feature detection (cpuid and the OS's saved-state mask), the choice
// of OpenBLAS's kernel set at run time, and kernels where OpenBLAS is weak.
#ifndef NSI_KERNELS_H
#define NSI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// What the processor offers and the operating system lets a program use (an AVX-512
// bit is set only when the OS saves the ZMM and opmask registers, read with xgetbv).
typedef struct {
    char vendor[13];          // "GenuineIntel", "AuthenticAMD", ...
    char brand[49];           // the processor's brand string
    int family, model;
    int sse42, avx, avx2, fma, f16c;
    int avx512f, avx512bw, avx512dq, avx512vl, avx512_bf16, avx512_vnni;
    int amx_tile, amx_bf16;
} nsi_cpu_info;

// Fills *info. On a processor that is not x86-64 every feature reads 0.
void nsi_cpu_detect(nsi_cpu_info *info);

// The OpenBLAS loaded in this process, through its exported symbols (looked up at run
// time, so any OpenBLAS build, or another BLAS, links).
// Writes OpenBLAS's kernel-set name ("Haswell", "SkylakeX", "Prescott", ...) into out,
// or "" when the BLAS in use does not say. Returns 1 when the name was read.
int nsi_blas_core_name(char *out, size_t size);
// The library's build description (openblas_get_config), or "".
int nsi_blas_config(char *out, size_t size);
// 1 when the library can switch kernel sets after it started (an OpenBLAS built with
// DYNAMIC_ARCH, which exports gotoblas_dynamic_init/quit).
int nsi_blas_can_switch(void);
// Switches OpenBLAS to the kernel set `core` (one of OpenBLAS's names). Must run before
// other threads call into BLAS. Returns 1 when the named set is in use afterwards.
int nsi_blas_switch(const char *core);

// Y[i, j] = sum_p X[i, p] * W[j, p] (+ beta * Y[i, j]) for i < m, n0 <= j < n1: a
// product with few rows against a weight stored [n, k] row-major, read in place.
// level: 0 portable C, 1 AVX2+FMA, 2 AVX-512F; the caller checks the CPU has it.
void nsi_gemm_xwt(int level, int m, int n0, int n1, int k, const float *x, long ldx,
                  const float *w, long ldw, float *y, long ldy, float beta);

// Y[i, j] = sum_p X[i, p] * W[p, j] for i < m, j < n: W stored [k, n] row-major (the
// values attention weighs). Each output is one chain of fused multiply-adds over p in
// order, so a row's result does not depend on the other rows, and zero terms after the
// last nonzero one may be left out (pass a smaller k) without changing a bit.
void nsi_gemm_xw(int level, int m, int n, int k, const float *x, long ldx, const float *w, long ldw,
                 float *y, long ldy);

// Weights at their stored width. kind: NSI_BF16 or NSI_F16.
enum { NSI_BF16 = 0, NSI_F16 = 1 };
// dst[i] = src[i] widened to f32, for i < n. level as above (1 and 2 use AVX2 and F16C).
void nsi_widen(int level, int kind, const uint16_t *src, float *dst, long n);
// nsi_gemm_xwt with W [n, k] stored as bf16 or f16: each output is the dot product the
// f32 kernel computes on the widened weights.
void nsi_gemm_xwt_half(int level, int kind, int m, int n0, int n1, int k, const float *x, long ldx,
                       const uint16_t *w, long ldw, float *y, long ldy, float beta);

#ifdef __cplusplus
}
#endif
#endif
