/// AVX-512 register tiles of the implicit-GEMM convolution (Tensors' ImplicitConv.swift), built with
/// `-target-cpu skylake-avx512`. Nothing here may run on a CPU without AVX-512: Tensors calls these
/// only when `hippopeft_cpu_supports_avx512()` says so, and no other code lives in this module.
///
/// A tile is 12 rows × 16 columns: twelve ZMM accumulators, one 16-float weight or gradient load
/// shared by twelve FMAs (the AVX2 tile of Tensors shares each pair of 8-float loads by six). Every
/// accumulator element sees the same FMAs in the same order as in the AVX2 tiles, so both paths give
/// bit-identical results.
public enum WideKernels {
    /// staging[r · 16 + j] = Σ_kk input[bases[r] + offsets[kk]] · packed[kk · 16 + j] for r < 12, j < 16.
    @inline(never)
    public static func gatherTile12x16(input: UnsafePointer<Float>, bases: UnsafePointer<Int>,
                                       offsets: UnsafePointer<Int>, packed: UnsafePointer<Float>, k: Int,
                                       into staging: UnsafeMutablePointer<Float>) {
        let a0 = input + bases[0], a1 = input + bases[1], a2 = input + bases[2], a3 = input + bases[3]
        let a4 = input + bases[4], a5 = input + bases[5], a6 = input + bases[6], a7 = input + bases[7]
        let a8 = input + bases[8], a9 = input + bases[9], a10 = input + bases[10], a11 = input + bases[11]
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()
        var c8 = SIMD16<Float>(), c9 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var bp = packed
        for kk in 0..<k {
            let o = offsets[kk]
            let b = load16(bp)
            bp += 16
            c0.addProduct(SIMD16(repeating: a0[o]), b)
            c1.addProduct(SIMD16(repeating: a1[o]), b)
            c2.addProduct(SIMD16(repeating: a2[o]), b)
            c3.addProduct(SIMD16(repeating: a3[o]), b)
            c4.addProduct(SIMD16(repeating: a4[o]), b)
            c5.addProduct(SIMD16(repeating: a5[o]), b)
            c6.addProduct(SIMD16(repeating: a6[o]), b)
            c7.addProduct(SIMD16(repeating: a7[o]), b)
            c8.addProduct(SIMD16(repeating: a8[o]), b)
            c9.addProduct(SIMD16(repeating: a9[o]), b)
            c10.addProduct(SIMD16(repeating: a10[o]), b)
            c11.addProduct(SIMD16(repeating: a11[o]), b)
        }
        store16(c0, staging); store16(c1, staging + 16); store16(c2, staging + 32); store16(c3, staging + 48)
        store16(c4, staging + 64); store16(c5, staging + 80); store16(c6, staging + 96); store16(c7, staging + 112)
        store16(c8, staging + 128); store16(c9, staging + 144); store16(c10, staging + 160); store16(c11, staging + 176)
    }

    /// tile[r · 16 + j] += Σ_row Σ_i a_row[first(r) + i · aStep] · g_row[i · gStep + j] over the `count`
    /// rows (a_row = aRows[row], g_row = gRows[row]) and i < n, where first(r) = offset0 + r for r < 6 and
    /// offset1 + r − 6 for 6 ≤ r < 12: two six-channel weight-gradient tiles sharing each gradient load.
    @inline(never)
    public static func weightTile12x16(aRows: UnsafePointer<UnsafePointer<Float>>, gRows: UnsafePointer<UnsafePointer<Float>>,
                                       count: Int, offset0: Int, offset1: Int, aStep: Int, gStep: Int, n: Int,
                                       tile: UnsafeMutablePointer<Float>) {
        var c0 = load16(tile), c1 = load16(tile + 16), c2 = load16(tile + 32), c3 = load16(tile + 48)
        var c4 = load16(tile + 64), c5 = load16(tile + 80), c6 = load16(tile + 96), c7 = load16(tile + 112)
        var c8 = load16(tile + 128), c9 = load16(tile + 144), c10 = load16(tile + 160), c11 = load16(tile + 176)
        for row in 0..<count {
            var p = aRows[row] + offset0, q = aRows[row] + offset1, gp = gRows[row]
            for _ in 0..<n {
                let b = load16(gp)
                gp += gStep
                c0.addProduct(SIMD16(repeating: p[0]), b)
                c1.addProduct(SIMD16(repeating: p[1]), b)
                c2.addProduct(SIMD16(repeating: p[2]), b)
                c3.addProduct(SIMD16(repeating: p[3]), b)
                c4.addProduct(SIMD16(repeating: p[4]), b)
                c5.addProduct(SIMD16(repeating: p[5]), b)
                c6.addProduct(SIMD16(repeating: q[0]), b)
                c7.addProduct(SIMD16(repeating: q[1]), b)
                c8.addProduct(SIMD16(repeating: q[2]), b)
                c9.addProduct(SIMD16(repeating: q[3]), b)
                c10.addProduct(SIMD16(repeating: q[4]), b)
                c11.addProduct(SIMD16(repeating: q[5]), b)
                p += aStep
                q += aStep
            }
        }
        store16(c0, tile); store16(c1, tile + 16); store16(c2, tile + 32); store16(c3, tile + 48)
        store16(c4, tile + 64); store16(c5, tile + 80); store16(c6, tile + 96); store16(c7, tile + 112)
        store16(c8, tile + 128); store16(c9, tile + 144); store16(c10, tile + 160); store16(c11, tile + 176)
    }
}
