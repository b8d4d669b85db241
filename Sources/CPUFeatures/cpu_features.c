#include "CPUFeatures.h"

#if defined(__x86_64__)
#include <cpuid.h>

int hippopeft_cpu_supports_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // OSXSAVE and FMA (every AVX-512 CPU has FMA; the check costs nothing).
    if (!(c & (1u << 27)) || !(c & (1u << 12))) return 0;
    // The OS must save the x87/SSE/AVX state (bits 1, 2) and the AVX-512 opmask and ZMM state (5, 6, 7).
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    // Leaf 7 EBX: AVX2 5, AVX512F 16, AVX512DQ 17, AVX512CD 28, AVX512BW 30, AVX512VL 31.
    const unsigned needed = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    return (b & needed) == needed;
}
#else
int hippopeft_cpu_supports_avx512(void) { return 0; }
#endif
