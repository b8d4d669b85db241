/// AVX-512 versions of the 8-row blocks of window attention and of the softmax's exponentials
/// (Tensors' AttentionRows.swift and SoftmaxRow.swift), 16 columns per register where the AVX2 code
/// has 8. Every output element sees the same operations in the same order as there — a product sums
/// over its inner index in order, an exponential is the same polynomial, and the row total adds the
/// same 8-lane chunks in the same order — so both paths give bit-identical results. The callers keep
/// the columns left over (fewer than 16) and the single rows on their AVX2 code.
extension WideKernels {
    /// out[i·ldo + j] = alpha·Σ_t a[i·lda + t]·bT[t·ld + j] for i < 8 and j < columns (a multiple of 16).
    @inline(never)
    public static func blockTimesTransposed16(_ a: UnsafePointer<Float>, lda: Int, count k: Int, _ bT: UnsafePointer<Float>,
                                              ld: Int, columns: Int, alpha: Float, into out: UnsafeMutablePointer<Float>,
                                              ldo: Int) {
        let (a0, a1, a2, a3) = (a, a + lda, a + 2 * lda, a + 3 * lda)
        let (a4, a5, a6, a7) = (a + 4 * lda, a + 5 * lda, a + 6 * lda, a + 7 * lda)
        for j in stride(from: 0, to: columns, by: 16) {
            var (c0, c1, c2, c3) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            var (c4, c5, c6, c7) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            var row = bT + j
            for t in 0..<k {
                let b = load16(row)
                c0.addProduct(SIMD16(repeating: a0[t]), b); c1.addProduct(SIMD16(repeating: a1[t]), b)
                c2.addProduct(SIMD16(repeating: a2[t]), b); c3.addProduct(SIMD16(repeating: a3[t]), b)
                c4.addProduct(SIMD16(repeating: a4[t]), b); c5.addProduct(SIMD16(repeating: a5[t]), b)
                c6.addProduct(SIMD16(repeating: a6[t]), b); c7.addProduct(SIMD16(repeating: a7[t]), b)
                row += ld
            }
            store16(c0 * alpha, out + j); store16(c1 * alpha, out + ldo + j)
            store16(c2 * alpha, out + 2 * ldo + j); store16(c3 * alpha, out + 3 * ldo + j)
            store16(c4 * alpha, out + 4 * ldo + j); store16(c5 * alpha, out + 5 * ldo + j)
            store16(c6 * alpha, out + 6 * ldo + j); store16(c7 * alpha, out + 7 * ldo + j)
        }
    }

    /// out[i·ldo + c] = alpha·Σ_j w[i·ldw + j]·m[j·ld + c] (+ out with `accumulate`) for i < 8 and
    /// c < columns (a multiple of 16).
    @inline(never)
    public static func blockTimesMatrix16(_ w: UnsafePointer<Float>, ldw: Int, count n: Int, _ m: UnsafePointer<Float>,
                                          ld: Int, columns: Int, alpha: Float, accumulate: Bool,
                                          into out: UnsafeMutablePointer<Float>, ldo: Int) {
        let (w0, w1, w2, w3) = (w, w + ldw, w + 2 * ldw, w + 3 * ldw)
        let (w4, w5, w6, w7) = (w + 4 * ldw, w + 5 * ldw, w + 6 * ldw, w + 7 * ldw)
        for c in stride(from: 0, to: columns, by: 16) {
            var (s0, s1, s2, s3) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            var (s4, s5, s6, s7) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            var row = m + c
            for j in 0..<n {
                let v = load16(row)
                s0.addProduct(SIMD16(repeating: w0[j]), v); s1.addProduct(SIMD16(repeating: w1[j]), v)
                s2.addProduct(SIMD16(repeating: w2[j]), v); s3.addProduct(SIMD16(repeating: w3[j]), v)
                s4.addProduct(SIMD16(repeating: w4[j]), v); s5.addProduct(SIMD16(repeating: w5[j]), v)
                s6.addProduct(SIMD16(repeating: w6[j]), v); s7.addProduct(SIMD16(repeating: w7[j]), v)
                row += ld
            }
            @inline(__always) func put(_ s: SIMD16<Float>, _ i: Int) {
                let target = out + i * ldo + c
                store16(accumulate ? load16(target) + s * alpha : s * alpha, target)
            }
            put(s0, 0); put(s1, 1); put(s2, 2); put(s3, 3); put(s4, 4); put(s5, 5); put(s6, 6); put(s7, 7)
        }
    }

    /// m[j·ld + c] += Σ_i w[i·ldw + j]·(alpha·x[i·ldx + c]) over 8 rows i in order, for j < n and
    /// c < columns (a multiple of 16).
    @inline(never)
    public static func addBlockOuterProducts16(_ w: UnsafePointer<Float>, ldw: Int, count n: Int, _ x: UnsafePointer<Float>,
                                               ldx: Int, columns: Int, alpha: Float, into m: UnsafeMutablePointer<Float>,
                                               ld: Int) {
        let (w0, w1, w2, w3) = (w, w + ldw, w + 2 * ldw, w + 3 * ldw)
        let (w4, w5, w6, w7) = (w + 4 * ldw, w + 5 * ldw, w + 6 * ldw, w + 7 * ldw)
        for c in stride(from: 0, to: columns, by: 16) {
            let (x0, x1, x2, x3) = (load16(x + c) * alpha, load16(x + ldx + c) * alpha,
                                    load16(x + 2 * ldx + c) * alpha, load16(x + 3 * ldx + c) * alpha)
            let (x4, x5, x6, x7) = (load16(x + 4 * ldx + c) * alpha, load16(x + 5 * ldx + c) * alpha,
                                    load16(x + 6 * ldx + c) * alpha, load16(x + 7 * ldx + c) * alpha)
            var row = m + c
            for j in 0..<n {
                var r = load16(row)
                r.addProduct(SIMD16(repeating: w0[j]), x0); r.addProduct(SIMD16(repeating: w1[j]), x1)
                r.addProduct(SIMD16(repeating: w2[j]), x2); r.addProduct(SIMD16(repeating: w3[j]), x3)
                r.addProduct(SIMD16(repeating: w4[j]), x4); r.addProduct(SIMD16(repeating: w5[j]), x5)
                r.addProduct(SIMD16(repeating: w6[j]), x6); r.addProduct(SIMD16(repeating: w7[j]), x7)
                store16(r, row)
                row += ld
            }
        }
    }

    /// row[i] ← exp(row[i] − maximum) for i < count (a multiple of 16); returns the 8-lane total of
    /// the AVX2 loop, its chunks of 8 added in row order.
    @inline(never)
    public static func exponentials16(_ row: UnsafeMutablePointer<Float>, count: Int, maximum: Float) -> SIMD8<Float> {
        var totals = SIMD8<Float>()
        for i in stride(from: 0, to: count, by: 16) {
            let e = exp16(load16(row + i) - maximum)
            store16(e, row + i)
            totals += e.lowHalf
            totals += e.highHalf
        }
        return totals
    }

    /// row[i] ← exp(row[i] − maximum)·inverse for i < count (a multiple of 16).
    @inline(never)
    public static func scaledExponentials16(_ row: UnsafeMutablePointer<Float>, count: Int, maximum: Float, inverse: Float) {
        for i in stride(from: 0, to: count, by: 16) { store16(exp16(load16(row + i) - maximum) * inverse, row + i) }
    }

    /// Tensors' `Kernels.exp8` on 16 lanes, operation for operation.
    @inline(__always)
    static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -87.33654), hi = SIMD16<Float>(repeating: 88.72283)
        var v = x.replacing(with: lo, where: x .< lo)
        v.replace(with: hi, where: v .> hi)
        let magic = SIMD16<Float>(repeating: 12582912)
        let shifted = v * 1.44269504088896341 + magic
        let n = shifted - magic
        let bits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        var r = v - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p = SIMD16<Float>(repeating: 1.9875691500e-4)
        p = SIMD16(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = SIMD16(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = SIMD16(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = SIMD16(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = SIMD16(repeating: 5.0000001201e-1).addingProduct(p, r)
        let e = p * (r * r) + r + 1
        var y = e * unsafeBitCast((bits &+ 127) &<< 23, to: SIMD16<Float>.self)
        y.replace(with: 0, where: x .< lo)
        y.replace(with: .infinity, where: x .> hi)
        return y
    }
}
