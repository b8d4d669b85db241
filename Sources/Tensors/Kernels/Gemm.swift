import CBLAS
import Synchronization

/// Pure compute kernels over raw buffers: no tape, no allocation of tensors.
public enum Kernels {}

/// Counts of kernel calls, so tests can show work that was skipped (a frozen weight's gradient)
/// without timing anything.
public enum KernelCounters {
    public static let gemmCalls = Atomic<Int>(0)
    public static let weightGradients = Atomic<Int>(0)
    /// Floating-point operations of matrix products and convolutions (2 per multiply-add), the
    /// work measure of ANCHORS.md (PyTorch's FLOP counter counts the same ops).
    public static let flops = Atomic<Int>(0)

    public static func reset() {
        gemmCalls.store(0, ordering: .relaxed)
        weightGradients.store(0, ordering: .relaxed)
        flops.store(0, ordering: .relaxed)
    }
}

extension Kernels {
    /// Row-major `C = alpha · op(A) · op(B) + beta · C` with C of size m×n and inner dimension k.
    /// Large products are split by columns (or rows when n is narrow) into parts fixed by the shapes,
    /// spread over the workers, each part running single-threaded OpenBLAS.
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true
    ) {
        guard m > 0, n > 0 else { return }
        KernelCounters.gemmCalls.add(1, ordering: .relaxed)
        KernelCounters.flops.add(2 * m * n * k, ordering: .relaxed)
        guard k > 0 else {
            scaleMatrix(c, rows: m, columns: n, ld: ldc, by: beta)
            return
        }
        // The split depends on the shapes alone, never on the worker count: an element's value depends
        // on the shape of the product OpenBLAS computes it in, so every worker count must compute the
        // same parts (one worker computes them in turn). Up to 8 parts, then one more per
        // `Kernels.gemmPartWork` multiply-adds, so a paper-size product has parts for many cores.
        let split = parallel && m * n * k >= 1 << 21
        if split && n >= 128 {
            Parallel.forEachPart(n, grain: 64, span: max(1, gemmPartWork / (m * k))) { cols in
                sgemm(transA, transB, m, cols.count, k, alpha, a, lda,
                      transB ? b + cols.lowerBound * ldb : b + cols.lowerBound, ldb,
                      beta, c + cols.lowerBound, ldc)
            }
        } else if split && m >= 32 {
            Parallel.forEachPart(m, grain: 16, span: max(1, gemmPartWork / (n * k))) { rows in
                sgemm(transA, transB, rows.count, n, k, alpha,
                      transA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda, b, ldb,
                      beta, c + rows.lowerBound * ldc, ldc)
            }
        } else {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }

    /// Multiply-adds per part of a product split into more than 8 parts (2^26, one to two ms on one
    /// core): large enough that a part's call overhead does not show, small enough that a 128³
    /// convolution's products have pieces for dozens of cores, and large enough that no product of
    /// the CPU-scale models (at most 2^28.2, SwinUNETR's 48 → 24 pointwise convolution at 64³)
    /// gets more than the 8 parts it always had, so their results are unchanged.
    public static let gemmPartWork = 1 << 26

    private static func sgemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        _ = Parallel.workers  // makes sure OpenBLAS is set to one thread before its first call
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    private static func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int, by beta: Float) {
        for r in 0..<rows {
            let row = c + r * ld
            if beta == 0 { row.update(repeating: 0, count: columns) } else { for j in 0..<columns { row[j] *= beta } }
        }
    }

    /// OpenBLAS's own multi-threaded sgemm (C = A·B, n×n), for comparison in benchmarks only: our
    /// kernels keep OpenBLAS at one thread inside our workers. Restores one thread afterwards;
    /// OpenBLAS's pool then spins for ~85 ms (OPENBLAS_THREAD_TIMEOUT), so run it last.
    public static func openBLASReferenceGemm(threads: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                             c: UnsafeMutablePointer<Float>) {
        _ = Parallel.workers
        openblas_set_num_threads(Int32(threads))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n),
                    0, c, Int32(n))
        openblas_set_num_threads(1)
    }
}
