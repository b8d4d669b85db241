#ifndef HIPPOPEFT_CPU_FEATURES_H
#define HIPPOPEFT_CPU_FEATURES_H

/// 1 when the CPU and the operating system support every AVX-512 subset that code built with
/// `-target-cpu skylake-avx512` may use (F, CD, BW, DQ, VL, with the ZMM and mask state enabled), else 0.
int hippopeft_cpu_supports_avx512(void);

#endif
