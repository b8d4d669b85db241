import WideKernels

/// Row-at-a-time products of attention with head sizes that are multiples of 8, on the calling
/// worker. Window attention multiplies 343 × 343 scores by heads of 8–32 channels: as BLAS calls
/// those products cost more in packing and in writing the score matrix than in arithmetic, while a
/// few rows of scores stay in L1 from their product through their softmax to their use.
extension Kernels {
    /// out[j] = alpha·Σ_t a[t]·bT[t·ld + j] for j < ld, with ld a multiple of 8 (bT's rows padded).
    @inline(__always)
    static func rowTimesTransposed(_ a: UnsafePointer<Float>, count k: Int, _ bT: UnsafePointer<Float>, ld: Int,
                                   alpha: Float, into out: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 32 <= ld {
            var (c0, c1, c2, c3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var row = bT + j
            for t in 0..<k {
                let s = SIMD8<Float>(repeating: a[t])
                c0.addProduct(s, load8(row)); c1.addProduct(s, load8(row + 8))
                c2.addProduct(s, load8(row + 16)); c3.addProduct(s, load8(row + 24))
                row += ld
            }
            store8(c0 * alpha, out + j); store8(c1 * alpha, out + j + 8)
            store8(c2 * alpha, out + j + 16); store8(c3 * alpha, out + j + 24)
            j += 32
        }
        while j < ld {
            var c = SIMD8<Float>()
            for t in 0..<k { c.addProduct(SIMD8<Float>(repeating: a[t]), load8(bT + t * ld + j)) }
            store8(c * alpha, out + j)
            j += 8
        }
    }

    /// out[c] = alpha·Σ_j w[j]·m[j·ld + c] (+ out[c] with `accumulate`) for c < width, a multiple of 8.
    @inline(__always)
    static func rowTimesMatrix(_ w: UnsafePointer<Float>, count n: Int, _ m: UnsafePointer<Float>, ld: Int, width: Int,
                               alpha: Float, accumulate: Bool, into out: UnsafeMutablePointer<Float>) {
        for c in stride(from: 0, to: width, by: 8) {
            // Four partial sums keep four independent chains of multiply-adds in flight.
            var (s0, s1, s2, s3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var j = 0, row = m + c
            while j + 4 <= n {
                s0.addProduct(SIMD8<Float>(repeating: w[j]), load8(row))
                s1.addProduct(SIMD8<Float>(repeating: w[j + 1]), load8(row + ld))
                s2.addProduct(SIMD8<Float>(repeating: w[j + 2]), load8(row + 2 * ld))
                s3.addProduct(SIMD8<Float>(repeating: w[j + 3]), load8(row + 3 * ld))
                j += 4
                row += 4 * ld
            }
            while j < n {
                s0.addProduct(SIMD8<Float>(repeating: w[j]), load8(row))
                j += 1
                row += ld
            }
            let total = ((s0 + s1) + (s2 + s3)) * alpha
            store8(accumulate ? load8(out + c) + total : total, out + c)
        }
    }

    /// m[j·ld + c] += alpha·w[j]·x[c] for j < n and c < width, a multiple of 8 (a rank-one update).
    @inline(__always)
    static func addOuterProduct(_ w: UnsafePointer<Float>, count n: Int, _ x: UnsafePointer<Float>, width: Int,
                                alpha: Float, into m: UnsafeMutablePointer<Float>, ld: Int) {
        for c in stride(from: 0, to: width, by: 8) {
            let xc = load8(x + c)
            var row = m + c
            for j in 0..<n {
                var r = load8(row)
                r.addProduct(SIMD8<Float>(repeating: alpha * w[j]), xc)
                store8(r, row)
                row += ld
            }
        }
    }

    /// dst[t·ld + j] = src[j·cols + t] for j < rows, t < cols; columns rows..<ld of dst are zeroed.
    @inline(__always)
    static func transposePadded(_ src: UnsafePointer<Float>, rows: Int, cols: Int,
                                into dst: UnsafeMutablePointer<Float>, ld: Int) {
        for t in 0..<cols {
            let out = dst + t * ld
            for j in 0..<rows { out[j] = src[j * cols + t] }
            for j in rows..<ld { out[j] = 0 }
        }
    }
}

/// The same products for blocks of 8 rows: every load of the shared operand (kᵀ, v, or the gradient
/// row being updated) then serves 8 multiply-adds instead of one.
extension Kernels {
    /// `rowTimesTransposed` for rows a + i·lda (i < 8) into out + i·ldo, columns from `start` on.
    @inline(__always)
    static func blockTimesTransposed(_ a: UnsafePointer<Float>, lda: Int, count k: Int, _ bT: UnsafePointer<Float>,
                                     ld: Int, from start: Int = 0, alpha: Float, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        let (a0, a1, a2, a3) = (a, a + lda, a + 2 * lda, a + 3 * lda)
        let (a4, a5, a6, a7) = (a + 4 * lda, a + 5 * lda, a + 6 * lda, a + 7 * lda)
        for j in stride(from: start, to: ld, by: 8) {
            var (c0, c1, c2, c3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var (c4, c5, c6, c7) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var row = bT + j
            for t in 0..<k {
                let b = load8(row)
                c0.addProduct(SIMD8(repeating: a0[t]), b); c1.addProduct(SIMD8(repeating: a1[t]), b)
                c2.addProduct(SIMD8(repeating: a2[t]), b); c3.addProduct(SIMD8(repeating: a3[t]), b)
                c4.addProduct(SIMD8(repeating: a4[t]), b); c5.addProduct(SIMD8(repeating: a5[t]), b)
                c6.addProduct(SIMD8(repeating: a6[t]), b); c7.addProduct(SIMD8(repeating: a7[t]), b)
                row += ld
            }
            store8(c0 * alpha, out + j); store8(c1 * alpha, out + ldo + j)
            store8(c2 * alpha, out + 2 * ldo + j); store8(c3 * alpha, out + 3 * ldo + j)
            store8(c4 * alpha, out + 4 * ldo + j); store8(c5 * alpha, out + 5 * ldo + j)
            store8(c6 * alpha, out + 6 * ldo + j); store8(c7 * alpha, out + 7 * ldo + j)
        }
    }

    /// `rowTimesMatrix` for weight rows w + i·ldw (i < 8) into out + i·ldo, columns from `start` on.
    @inline(__always)
    static func blockTimesMatrix(_ w: UnsafePointer<Float>, ldw: Int, count n: Int, _ m: UnsafePointer<Float>, ld: Int,
                                 width: Int, from start: Int = 0, alpha: Float, accumulate: Bool,
                                 into out: UnsafeMutablePointer<Float>, ldo: Int) {
        let (w0, w1, w2, w3) = (w, w + ldw, w + 2 * ldw, w + 3 * ldw)
        let (w4, w5, w6, w7) = (w + 4 * ldw, w + 5 * ldw, w + 6 * ldw, w + 7 * ldw)
        for c in stride(from: start, to: width, by: 8) {
            var (s0, s1, s2, s3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var (s4, s5, s6, s7) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var row = m + c
            for j in 0..<n {
                let v = load8(row)
                s0.addProduct(SIMD8(repeating: w0[j]), v); s1.addProduct(SIMD8(repeating: w1[j]), v)
                s2.addProduct(SIMD8(repeating: w2[j]), v); s3.addProduct(SIMD8(repeating: w3[j]), v)
                s4.addProduct(SIMD8(repeating: w4[j]), v); s5.addProduct(SIMD8(repeating: w5[j]), v)
                s6.addProduct(SIMD8(repeating: w6[j]), v); s7.addProduct(SIMD8(repeating: w7[j]), v)
                row += ld
            }
            @inline(__always) func put(_ s: SIMD8<Float>, _ i: Int) {
                let target = out + i * ldo + c
                store8(accumulate ? load8(target) + s * alpha : s * alpha, target)
            }
            put(s0, 0); put(s1, 1); put(s2, 2); put(s3, 3); put(s4, 4); put(s5, 5); put(s6, 6); put(s7, 7)
        }
    }

    /// m[j·ld + c] += alpha·Σ_i w[i·ldw + j]·x[i·ldx + c] over 8 rows i, for j < n and start ≤ c < width.
    @inline(__always)
    static func addBlockOuterProducts(_ w: UnsafePointer<Float>, ldw: Int, count n: Int, _ x: UnsafePointer<Float>,
                                      ldx: Int, width: Int, from start: Int = 0, alpha: Float,
                                      into m: UnsafeMutablePointer<Float>, ld: Int) {
        let (w0, w1, w2, w3) = (w, w + ldw, w + 2 * ldw, w + 3 * ldw)
        let (w4, w5, w6, w7) = (w + 4 * ldw, w + 5 * ldw, w + 6 * ldw, w + 7 * ldw)
        for c in stride(from: start, to: width, by: 8) {
            let (x0, x1, x2, x3) = (load8(x + c) * alpha, load8(x + ldx + c) * alpha,
                                    load8(x + 2 * ldx + c) * alpha, load8(x + 3 * ldx + c) * alpha)
            let (x4, x5, x6, x7) = (load8(x + 4 * ldx + c) * alpha, load8(x + 5 * ldx + c) * alpha,
                                    load8(x + 6 * ldx + c) * alpha, load8(x + 7 * ldx + c) * alpha)
            var row = m + c
            for j in 0..<n {
                var r = load8(row)
                r.addProduct(SIMD8(repeating: w0[j]), x0); r.addProduct(SIMD8(repeating: w1[j]), x1)
                r.addProduct(SIMD8(repeating: w2[j]), x2); r.addProduct(SIMD8(repeating: w3[j]), x3)
                r.addProduct(SIMD8(repeating: w4[j]), x4); r.addProduct(SIMD8(repeating: w5[j]), x5)
                r.addProduct(SIMD8(repeating: w6[j]), x6); r.addProduct(SIMD8(repeating: w7[j]), x7)
                store8(r, row)
                row += ld
            }
        }
    }
}

/// Any number of rows: blocks of 8, then single rows. On AVX-512 a block's first columns, a multiple
/// of 16, go to WideKernels (same bits, see AttentionRows512.swift) and the last 8, if any, stay here.
extension Kernels {
    /// `wide16(i, wide)` then `block(i, wide)` for each block of 8 rows starting at row i (`wide`: the
    /// columns the 16-lane kernel takes, 0 without AVX-512), then `row(i)` for each row left over.
    @inline(__always)
    private static func byRowBlocks(rows: Int, columns: Int, wide16: (Int, Int) -> Void, block: (Int, Int) -> Void,
                                    row: (Int) -> Void) {
        let wide = usesAVX512 ? columns / 16 * 16 : 0
        var i = 0
        while i + 8 <= rows {
            if wide > 0 { wide16(i, wide) }
            block(i, wide)
            i += 8
        }
        while i < rows {
            row(i)
            i += 1
        }
    }

    static func rowsTimesTransposed(_ a: UnsafePointer<Float>, lda: Int, rows: Int, count k: Int,
                                    _ bT: UnsafePointer<Float>, ld: Int, alpha: Float,
                                    into out: UnsafeMutablePointer<Float>, ldo: Int) {
        byRowBlocks(rows: rows, columns: ld, wide16: { i, wide in
            WideKernels.blockTimesTransposed16(a + i * lda, lda: lda, count: k, bT, ld: ld, columns: wide, alpha: alpha,
                                               into: out + i * ldo, ldo: ldo)
        }, block: { i, wide in
            blockTimesTransposed(a + i * lda, lda: lda, count: k, bT, ld: ld, from: wide, alpha: alpha, into: out + i * ldo, ldo: ldo)
        }, row: { i in
            rowTimesTransposed(a + i * lda, count: k, bT, ld: ld, alpha: alpha, into: out + i * ldo)
        })
    }

    static func rowsTimesMatrix(_ w: UnsafePointer<Float>, ldw: Int, rows: Int, count n: Int, _ m: UnsafePointer<Float>,
                                ld: Int, width: Int, alpha: Float, accumulate: Bool,
                                into out: UnsafeMutablePointer<Float>, ldo: Int) {
        byRowBlocks(rows: rows, columns: width, wide16: { i, wide in
            WideKernels.blockTimesMatrix16(w + i * ldw, ldw: ldw, count: n, m, ld: ld, columns: wide, alpha: alpha,
                                           accumulate: accumulate, into: out + i * ldo, ldo: ldo)
        }, block: { i, wide in
            blockTimesMatrix(w + i * ldw, ldw: ldw, count: n, m, ld: ld, width: width, from: wide, alpha: alpha,
                             accumulate: accumulate, into: out + i * ldo, ldo: ldo)
        }, row: { i in
            rowTimesMatrix(w + i * ldw, count: n, m, ld: ld, width: width, alpha: alpha, accumulate: accumulate,
                           into: out + i * ldo)
        })
    }

    static func addOuterProducts(_ w: UnsafePointer<Float>, ldw: Int, rows: Int, count n: Int, _ x: UnsafePointer<Float>,
                                 ldx: Int, width: Int, alpha: Float, into m: UnsafeMutablePointer<Float>, ld: Int) {
        byRowBlocks(rows: rows, columns: width, wide16: { i, wide in
            WideKernels.addBlockOuterProducts16(w + i * ldw, ldw: ldw, count: n, x + i * ldx, ldx: ldx, columns: wide,
                                                alpha: alpha, into: m, ld: ld)
        }, block: { i, wide in
            addBlockOuterProducts(w + i * ldw, ldw: ldw, count: n, x + i * ldx, ldx: ldx, width: width, from: wide,
                                  alpha: alpha, into: m, ld: ld)
        }, row: { i in
            addOuterProduct(w + i * ldw, count: n, x + i * ldx, width: width, alpha: alpha, into: m, ld: ld)
        })
    }
}
