#include "nsi_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void nsi_cpu_detect(nsi_cpu_info *info) {
    memset(info, 0, sizeof *info);
    unsigned a, b, c, d;
    unsigned maxLeaf = __get_cpuid_max(0, 0);
    if (maxLeaf == 0) return;
    __cpuid(0, a, b, c, d);
    memcpy(info->vendor, &b, 4); memcpy(info->vendor + 4, &d, 4); memcpy(info->vendor + 8, &c, 4);

    __cpuid(1, a, b, c, d);
    unsigned baseFamily = (a >> 8) & 0xf, baseModel = (a >> 4) & 0xf;
    info->family = (int)(baseFamily == 0xf ? baseFamily + ((a >> 20) & 0xff) : baseFamily);
    info->model = (int)((baseFamily == 0x6 || baseFamily == 0xf) ? (((a >> 16) & 0xf) << 4) + baseModel : baseModel);
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int osAVX = (xcr0 & 0x6) == 0x6;               // XMM and YMM state
    int osAVX512 = osAVX && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
    int osAMX = (xcr0 & 0x60000) == 0x60000;        // XTILECFG, XTILEDATA
    info->sse42 = (c >> 20) & 1;
    info->avx = osAVX && ((c >> 28) & 1);
    info->fma = info->avx && ((c >> 12) & 1);
    info->f16c = info->avx && ((c >> 29) & 1);

    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        info->avx2 = info->avx && ((b >> 5) & 1);
        info->avx512f = osAVX512 && ((b >> 16) & 1);
        info->avx512dq = info->avx512f && ((b >> 17) & 1);
        info->avx512bw = info->avx512f && ((b >> 30) & 1);
        info->avx512vl = info->avx512f && ((b >> 31) & 1);
        info->avx512_vnni = info->avx512f && ((c >> 11) & 1);
        info->amx_bf16 = osAMX && ((d >> 22) & 1);
        info->amx_tile = osAMX && ((d >> 24) & 1);
        unsigned subleaves = a;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            info->avx512_bf16 = info->avx512f && ((a >> 5) & 1);
        }
    }
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __cpuid(0x80000002 + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2], regs[4 * i + 3]);
        memcpy(info->brand, regs, 48);
        info->brand[48] = 0;
        // Brand strings are padded with leading spaces on some parts.
        size_t lead = strspn(info->brand, " ");
        memmove(info->brand, info->brand + lead, strlen(info->brand + lead) + 1);
    }
}
#else
void nsi_cpu_detect(nsi_cpu_info *info) { memset(info, 0, sizeof *info); }
#endif
