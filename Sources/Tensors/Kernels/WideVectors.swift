import CPUFeatures
import Foundation
import Synchronization

/// Which vector width the convolution tiles, window attention's row blocks and the softmax's
/// exponentials use: AVX-512 (module WideKernels: 12 × 16 convolution tiles, 16-lane rows) where the
/// CPU has it, else AVX2 (ImplicitConv.swift, AttentionRows.swift, SoftmaxRow.swift). The two give
/// bit-identical results (each output sums the same products in the same order), so the choice
/// changes speed only.
extension Kernels {
    /// Whether this CPU and OS support the AVX-512 subsets WideKernels is built for.
    public static let cpuSupportsAVX512 = hippopeft_cpu_supports_avx512() != 0

    /// `HIPPOPEFT_AVX512=0` keeps the AVX2 kernels on an AVX-512 CPU (to compare the two in a benchmark).
    private static let avx512Setting = Atomic(
        cpuSupportsAVX512 && ProcessInfo.processInfo.environment["HIPPOPEFT_AVX512"] != "0")

    /// Whether the AVX-512 kernels run now.
    public static var usesAVX512: Bool { avx512Setting.load(ordering: .relaxed) }

    /// Turns the AVX-512 kernels off, or on where the CPU has them (tests run both paths on one input).
    public static func setUsesAVX512(_ on: Bool) {
        avx512Setting.store(on && cpuSupportsAVX512, ordering: .relaxed)
    }
}
