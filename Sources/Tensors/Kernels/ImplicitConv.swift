import WideKernels

/// Convolution as an implicit GEMM over a zero-padded channels-last copy of the input: no unfolded
/// patches are ever written. An output position's patch is its base offset in the padded input plus
/// one of `taps × channels` fixed offsets, so a 6 × 16 register tile (6 output positions × 16 output
/// channels, 12 AVX2 accumulators) runs the whole reduction over kernel taps and input channels
/// before it is stored once. The weight gradient uses the same tile with the roles turned round
/// (6 (tap, channel) rows × 16 output channels, reduced over output positions).

/// Twelve SIMD8 accumulators: rows 0–5, two 8-wide column halves.
@usableFromInline
struct Tile6x16 {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()

    @inline(__always) func row(_ r: Int) -> (SIMD8<Float>, SIMD8<Float>) {
        switch r {
        case 0: (c00, c01)
        case 1: (c10, c11)
        case 2: (c20, c21)
        case 3: (c30, c31)
        case 4: (c40, c41)
        default: (c50, c51)
        }
    }

    @inline(__always) mutating func setRow(_ r: Int, _ v: (SIMD8<Float>, SIMD8<Float>)) {
        switch r {
        case 0: (c00, c01) = v
        case 1: (c10, c11) = v
        case 2: (c20, c21) = v
        case 3: (c30, c31) = v
        case 4: (c40, c41) = v
        default: (c50, c51) = v
        }
    }
}

extension Kernels {
    /// tile += Σ_k a_r[offsets[k]] · b[k, 0..<16] for rows r = 0..<6 (b packed 16 wide).
    @inline(__always)
    static func gatherTile16(_ t: inout Tile6x16, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                             _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>,
                             _ a5: UnsafePointer<Float>, offsets: UnsafePointer<Int>, b: UnsafePointer<Float>, k: Int) {
        var (c00, c01, c10, c11, c20, c21) = (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21)
        var (c30, c31, c40, c41, c50, c51) = (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51)
        var bp = b
        for kk in 0..<k {
            let o = offsets[kk]
            let b0 = load8(bp), b1 = load8(bp + 8)
            bp += 16
            var x = SIMD8<Float>(repeating: a0[o])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a1[o])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a2[o])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a3[o])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a4[o])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a5[o])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
        }
        (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21) = (c00, c01, c10, c11, c20, c21)
        (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51) = (c30, c31, c40, c41, c50, c51)
    }

    /// The 8-wide variant (columns 0..<8 only, in c_r0), for a remainder of output channels.
    @inline(__always)
    static func gatherTile8(_ t: inout Tile6x16, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                            _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>,
                            _ a5: UnsafePointer<Float>, offsets: UnsafePointer<Int>, b: UnsafePointer<Float>, k: Int) {
        var (c00, c10, c20, c30, c40, c50) = (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50)
        var bp = b
        for kk in 0..<k {
            let o = offsets[kk]
            let b0 = load8(bp)
            bp += 8
            c00.addProduct(SIMD8<Float>(repeating: a0[o]), b0)
            c10.addProduct(SIMD8<Float>(repeating: a1[o]), b0)
            c20.addProduct(SIMD8<Float>(repeating: a2[o]), b0)
            c30.addProduct(SIMD8<Float>(repeating: a3[o]), b0)
            c40.addProduct(SIMD8<Float>(repeating: a4[o]), b0)
            c50.addProduct(SIMD8<Float>(repeating: a5[o]), b0)
        }
        (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50) = (c00, c10, c20, c30, c40, c50)
    }

    /// tile += Σ_i a_r[i·aStep] · b[i·bStep + 0..<16] for rows r = 0..<6, i in 0..<n.
    @inline(__always)
    static func stridedTile16(_ t: inout Tile6x16, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                              _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>,
                              _ a5: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>, bStep: Int, n: Int) {
        var (c00, c01, c10, c11, c20, c21) = (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21)
        var (c30, c31, c40, c41, c50, c51) = (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51)
        var bp = b, o = 0
        for _ in 0..<n {
            let b0 = load8(bp), b1 = load8(bp + 8)
            bp += bStep
            var x = SIMD8<Float>(repeating: a0[o])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a1[o])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a2[o])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a3[o])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a4[o])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a5[o])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
            o += aStep
        }
        (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21) = (c00, c01, c10, c11, c20, c21)
        (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51) = (c30, c31, c40, c41, c50, c51)
    }

    @inline(__always)
    static func stridedTile8(_ t: inout Tile6x16, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                             _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>,
                             _ a5: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>, bStep: Int, n: Int) {
        var (c00, c10, c20, c30, c40, c50) = (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50)
        var bp = b, o = 0
        for _ in 0..<n {
            let b0 = load8(bp)
            bp += bStep
            c00.addProduct(SIMD8<Float>(repeating: a0[o]), b0)
            c10.addProduct(SIMD8<Float>(repeating: a1[o]), b0)
            c20.addProduct(SIMD8<Float>(repeating: a2[o]), b0)
            c30.addProduct(SIMD8<Float>(repeating: a3[o]), b0)
            c40.addProduct(SIMD8<Float>(repeating: a4[o]), b0)
            c50.addProduct(SIMD8<Float>(repeating: a5[o]), b0)
            o += aStep
        }
        (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50) = (c00, c10, c20, c30, c40, c50)
    }
}

extension Kernels {
    /// tile += Σ_i a[i·aStep + r] · b[i·bStep + 0..<16] for rows r = 0..<6: the rows are consecutive
    /// floats (channels of one tap), so one pointer serves all six broadcasts.
    @inline(__always)
    static func runTile16x6(_ t: inout Tile6x16, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>,
                            bStep: Int, n: Int) {
        var (c00, c01, c10, c11, c20, c21) = (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21)
        var (c30, c31, c40, c41, c50, c51) = (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51)
        var ap = a, bp = b
        for _ in 0..<n {
            let b0 = load8(bp), b1 = load8(bp + 8)
            var x = SIMD8<Float>(repeating: ap[0])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[1])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[2])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[3])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[4])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[5])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
            ap += aStep
            bp += bStep
        }
        (t.c00, t.c01, t.c10, t.c11, t.c20, t.c21) = (c00, c01, c10, c11, c20, c21)
        (t.c30, t.c31, t.c40, t.c41, t.c50, t.c51) = (c30, c31, c40, c41, c50, c51)
    }

    /// Rows 0..<4 of `runTile16x6`.
    @inline(__always)
    static func runTile16x4(_ t: inout Tile6x16, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>,
                            bStep: Int, n: Int) {
        var (c00, c01, c10, c11) = (t.c00, t.c01, t.c10, t.c11)
        var (c20, c21, c30, c31) = (t.c20, t.c21, t.c30, t.c31)
        var ap = a, bp = b
        for _ in 0..<n {
            let b0 = load8(bp), b1 = load8(bp + 8)
            var x = SIMD8<Float>(repeating: ap[0])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[1])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[2])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap[3])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            ap += aStep
            bp += bStep
        }
        (t.c00, t.c01, t.c10, t.c11) = (c00, c01, c10, c11)
        (t.c20, t.c21, t.c30, t.c31) = (c20, c21, c30, c31)
    }

    /// The 8-wide variant of `runTile16x6` (columns in c_r0).
    @inline(__always)
    static func runTile8x6(_ t: inout Tile6x16, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>,
                           bStep: Int, n: Int) {
        var (c00, c10, c20, c30, c40, c50) = (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50)
        var ap = a, bp = b
        for _ in 0..<n {
            let b0 = load8(bp)
            c00.addProduct(SIMD8<Float>(repeating: ap[0]), b0)
            c10.addProduct(SIMD8<Float>(repeating: ap[1]), b0)
            c20.addProduct(SIMD8<Float>(repeating: ap[2]), b0)
            c30.addProduct(SIMD8<Float>(repeating: ap[3]), b0)
            c40.addProduct(SIMD8<Float>(repeating: ap[4]), b0)
            c50.addProduct(SIMD8<Float>(repeating: ap[5]), b0)
            ap += aStep
            bp += bStep
        }
        (t.c00, t.c10, t.c20, t.c30, t.c40, t.c50) = (c00, c10, c20, c30, c40, c50)
    }
}

/// Column blocks of a channel count: 16 wide, with the remainder as one 16-wide block (more than 8
/// left) or one 8-wide block (padded with zero weights).
struct ChannelBlocks {
    let channels: Int
    /// (first channel, width 16 or 8) of each block.
    let blocks: [(start: Int, width: Int)]
    /// Channels rounded up to the blocks' total width.
    let padded: Int

    init(_ channels: Int) {
        self.channels = channels
        var blocks: [(Int, Int)] = []
        var start = 0
        while start < channels {
            let width = channels - start > 8 ? 16 : 8
            blocks.append((start, width))
            start += width
        }
        self.blocks = blocks
        padded = start
    }
}

/// A padded channels-last volume: [D + padding before + after, H + …, W + …, channelStride].
struct ChannelsLastVolume {
    var size: (d: Int, h: Int, w: Int)            // padded spatial size
    var before: (d: Int, h: Int, w: Int)          // padding before each axis
    var channels: Int
    var channelStride: Int
    var count: Int { size.d * size.h * size.w * channelStride }
    /// Floats to allocate: a few beyond `count`, because tiles may read (and drop) channels past the last.
    var allocation: Int { count + 16 }
}

/// An 8 × 8 transpose in registers (LLVM lowers the element shuffles to unpack/shuffle/permute).
@inline(__always)
func transpose8(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    // unpacklo/hi within 128-bit lanes
    let t0 = SIMD8<Float>(r0[0], r1[0], r0[1], r1[1], r0[4], r1[4], r0[5], r1[5])
    let t1 = SIMD8<Float>(r0[2], r1[2], r0[3], r1[3], r0[6], r1[6], r0[7], r1[7])
    let t2 = SIMD8<Float>(r2[0], r3[0], r2[1], r3[1], r2[4], r3[4], r2[5], r3[5])
    let t3 = SIMD8<Float>(r2[2], r3[2], r2[3], r3[3], r2[6], r3[6], r2[7], r3[7])
    let t4 = SIMD8<Float>(r4[0], r5[0], r4[1], r5[1], r4[4], r5[4], r4[5], r5[5])
    let t5 = SIMD8<Float>(r4[2], r5[2], r4[3], r5[3], r4[6], r5[6], r4[7], r5[7])
    let t6 = SIMD8<Float>(r6[0], r7[0], r6[1], r7[1], r6[4], r7[4], r6[5], r7[5])
    let t7 = SIMD8<Float>(r6[2], r7[2], r6[3], r7[3], r6[6], r7[6], r6[7], r7[7])
    // shuffle pairs of 64-bit
    let u0 = SIMD8<Float>(t0[0], t0[1], t2[0], t2[1], t0[4], t0[5], t2[4], t2[5])
    let u1 = SIMD8<Float>(t0[2], t0[3], t2[2], t2[3], t0[6], t0[7], t2[6], t2[7])
    let u2 = SIMD8<Float>(t1[0], t1[1], t3[0], t3[1], t1[4], t1[5], t3[4], t3[5])
    let u3 = SIMD8<Float>(t1[2], t1[3], t3[2], t3[3], t1[6], t1[7], t3[6], t3[7])
    let u4 = SIMD8<Float>(t4[0], t4[1], t6[0], t6[1], t4[4], t4[5], t6[4], t6[5])
    let u5 = SIMD8<Float>(t4[2], t4[3], t6[2], t6[3], t4[6], t4[7], t6[6], t6[7])
    let u6 = SIMD8<Float>(t5[0], t5[1], t7[0], t7[1], t5[4], t5[5], t7[4], t7[5])
    let u7 = SIMD8<Float>(t5[2], t5[3], t7[2], t7[3], t5[6], t5[7], t7[6], t7[7])
    // 128-bit lane permutes
    return (SIMD8(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), SIMD8(lowHalf: u1.lowHalf, highHalf: u5.lowHalf),
            SIMD8(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), SIMD8(lowHalf: u3.lowHalf, highHalf: u7.lowHalf),
            SIMD8(lowHalf: u0.highHalf, highHalf: u4.highHalf), SIMD8(lowHalf: u1.highHalf, highHalf: u5.highHalf),
            SIMD8(lowHalf: u2.highHalf, highHalf: u6.highHalf), SIMD8(lowHalf: u3.highHalf, highHalf: u7.highHalf))
}

extension Kernels {
    /// Copies one batch entry x [C, D, H, W] into a zeroed-border channels-last layout (channel
    /// stride `layout.channelStride`; channels beyond C are zero).
    static func toChannelsLast(_ x: UnsafePointer<Float>, dhw: (Int, Int, Int), _ layout: ChannelsLastVolume,
                               into dst: UnsafeMutablePointer<Float>) {
        let (D, H, W) = dhw
        let (Dp, Hp, Wp) = layout.size
        let (bd, bh, bw) = layout.before
        let C = layout.channels, cs = layout.channelStride
        let volume = D * H * W, rowFloats = Wp * cs
        Parallel.forEach(Dp, grain: 2) { planes in
            for dp in planes {
                let plane = dst + dp * Hp * rowFloats
                let d = dp - bd
                guard d >= 0 && d < D else { plane.update(repeating: 0, count: Hp * rowFloats); continue }
                for hp in 0..<Hp {
                    let row = plane + hp * rowFloats
                    let h = hp - bh
                    guard h >= 0 && h < H else { row.update(repeating: 0, count: rowFloats); continue }
                    row.update(repeating: 0, count: bw * cs)
                    let tail = (Wp - bw - W) * cs
                    (row + (bw + W) * cs).update(repeating: 0, count: tail)
                    let interior = row + bw * cs
                    let src = x + (d * H + h) * W
                    if cs > C {
                        for w in 0..<W {
                            let o = interior + w * cs
                            for c in C..<cs { o[c] = 0 }
                        }
                    }
                    transposeRows(src, ld: volume, rows: C, columns: W, into: interior, ldOut: cs)
                }
            }
        }
    }

    /// dst[w · ldOut + c] (=|+=) src[c · ld + w] for c < rows, w < columns (8 × 8 blocks in registers).
    @inline(__always)
    static func transposeRows(_ src: UnsafePointer<Float>, ld: Int, rows: Int, columns: Int,
                              into dst: UnsafeMutablePointer<Float>, ldOut: Int, accumulate: Bool = false) {
        var c0 = 0
        while c0 + 8 <= rows {
            var w0 = 0
            while w0 + 8 <= columns {
                let s = src + c0 * ld + w0
                let t = transpose8(load8(s), load8(s + ld), load8(s + 2 * ld), load8(s + 3 * ld),
                                   load8(s + 4 * ld), load8(s + 5 * ld), load8(s + 6 * ld), load8(s + 7 * ld))
                let o = dst + w0 * ldOut + c0
                if accumulate {
                    store8(load8(o) + t.0, o); store8(load8(o + ldOut) + t.1, o + ldOut)
                    store8(load8(o + 2 * ldOut) + t.2, o + 2 * ldOut); store8(load8(o + 3 * ldOut) + t.3, o + 3 * ldOut)
                    store8(load8(o + 4 * ldOut) + t.4, o + 4 * ldOut); store8(load8(o + 5 * ldOut) + t.5, o + 5 * ldOut)
                    store8(load8(o + 6 * ldOut) + t.6, o + 6 * ldOut); store8(load8(o + 7 * ldOut) + t.7, o + 7 * ldOut)
                } else {
                    store8(t.0, o); store8(t.1, o + ldOut); store8(t.2, o + 2 * ldOut); store8(t.3, o + 3 * ldOut)
                    store8(t.4, o + 4 * ldOut); store8(t.5, o + 5 * ldOut); store8(t.6, o + 6 * ldOut); store8(t.7, o + 7 * ldOut)
                }
                w0 += 8
            }
            for w in w0..<columns {
                for c in c0..<(c0 + 8) {
                    if accumulate { dst[w * ldOut + c] += src[c * ld + w] } else { dst[w * ldOut + c] = src[c * ld + w] }
                }
            }
            c0 += 8
        }
        for c in c0..<rows {
            let s = src + c * ld
            for w in 0..<columns {
                if accumulate { dst[w * ldOut + c] += s[w] } else { dst[w * ldOut + c] = s[w] }
            }
        }
    }

    /// Packs weights for the gather tiles: for each block of `blocks` over the output channels,
    /// `[k][width]` with k = tap · inner + i, value `weight(o, i, tap)` (zero past the last channel).
    static func packGatherWeights(_ blocks: ChannelBlocks, inner: Int, taps: Int,
                                  into packed: UnsafeMutablePointer<Float>, _ weight: (_ o: Int, _ i: Int, _ tap: Int) -> Float) {
        let k = taps * inner
        var bases: [Int] = [], base = 0
        for (_, width) in blocks.blocks {
            bases.append(base)
            base += k * width
        }
        // Each (block, tap) fills its own rows: spread over the workers (a large kernel's packing
        // was a serial tenth of its small-grid convolutions).
        Parallel.forEach(blocks.blocks.count * taps, grain: max(1, 16384 / max(1, inner * 8))) { pairs in
            for pair in pairs {
                let b = pair / taps, tap = pair % taps
                let (start, width) = blocks.blocks[b]
                for i in 0..<inner {
                    let row = packed + bases[b] + (tap * inner + i) * width
                    for j in 0..<width {
                        let o = start + j
                        row[j] = o < blocks.channels ? weight(o, i, tap) : 0
                    }
                }
            }
        }
    }

    /// out[o, pos] (=|+=) Σ_k in[base(pos) + offsets[k]] · packed[k, o] over output positions `0..<positions`
    /// of a grid `outSize`, where base(pos) = ((od·sd)·Hp + oh·sh)·Wp + ow·sw) · channelStride.
    static func implicitGemm(input: UnsafePointer<Float>, layout: ChannelsLastVolume,
                             offsets: UnsafePointer<Int>, k: Int, packed: UnsafePointer<Float>, blocks: ChannelBlocks,
                             outSize: (Int, Int, Int), stride: (Int, Int, Int),
                             output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let (Do, Ho, Wo) = outSize
        let positions = Do * Ho * Wo
        let tiles = (positions + 5) / 6
        let walk = PositionWalk(outSize: outSize, stride: stride, layout: layout)
        // About 1 MFLOP per parallel piece at least.
        let grain = max(1, (1 << 20) / max(1, 12 * k * blocks.padded))
        Parallel.forEach(tiles, grain: grain) { tileRange in
            // Groups of tiles whose input rows stay in cache while each weight block is applied.
            let group = 16
            var first = tileRange.lowerBound
            while first < tileRange.upperBound {
                let last = min(first + group, tileRange.upperBound)
                var blockBase = packed
                for (start, width) in blocks.blocks {
                    let columns = min(width, blocks.channels - start)
                    let out = output + start * positions
                    if width == 16 {
                        gatherTiles16(walk, tiles: first..<last, input: input, offsets: offsets, packed: blockBase, k: k,
                                      output: out, columns: columns, accumulate: accumulate)
                    } else {
                        gatherTiles8(walk, tiles: first..<last, input: input, offsets: offsets, packed: blockBase, k: k,
                                     output: out, columns: columns, accumulate: accumulate)
                    }
                    blockBase += k * width
                }
                first = last
            }
        }
    }

    @inline(never)
    static func gatherTiles16(_ walk: PositionWalk, tiles: Range<Int>, input: UnsafePointer<Float>,
                              offsets: UnsafePointer<Int>, packed: UnsafePointer<Float>, k: Int,
                              output: UnsafeMutablePointer<Float>, columns: Int, accumulate: Bool) {
        // The group's tiles are staged channels-last ([position][16], vector stores, in L1), then
        // written to the channel planes by 8 × 8 transposes: contiguous runs instead of scalar scatter.
        // One spare tile: the AVX-512 tiles go in pairs, and an odd group's last pair fills it.
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: (tiles.count + 1) * 6 * 16)
        defer { staging.deallocate() }
        var cursor = walk.cursor(at: tiles.lowerBound * 6)
        if usesAVX512 {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 12) { bases in
                var tile = tiles.lowerBound
                while tile < tiles.upperBound {
                    let first = walk.bases(&cursor)
                    let second = tile + 1 < tiles.upperBound ? walk.bases(&cursor) : first
                    withUnsafeBytes(of: first) { UnsafeMutableRawPointer(bases.baseAddress!).copyMemory(from: $0.baseAddress!, byteCount: 48) }
                    withUnsafeBytes(of: second) { UnsafeMutableRawPointer(bases.baseAddress! + 6).copyMemory(from: $0.baseAddress!, byteCount: 48) }
                    WideKernels.gatherTile12x16(input: input, bases: bases.baseAddress!, offsets: offsets, packed: packed, k: k,
                                                into: staging + (tile - tiles.lowerBound) * 96)
                    tile += 2
                }
            }
        } else {
            for tile in tiles {
                let b = walk.bases(&cursor)
                var t = Tile6x16()
                gatherTile16(&t, input + b.0, input + b.1, input + b.2, input + b.3, input + b.4, input + b.5,
                             offsets: offsets, b: packed, k: k)
                let s = staging + (tile - tiles.lowerBound) * 96
                store8(t.c00, s); store8(t.c01, s + 8); store8(t.c10, s + 16); store8(t.c11, s + 24)
                store8(t.c20, s + 32); store8(t.c21, s + 40); store8(t.c30, s + 48); store8(t.c31, s + 56)
                store8(t.c40, s + 64); store8(t.c41, s + 72); store8(t.c50, s + 80); store8(t.c51, s + 88)
            }
        }
        let first = tiles.lowerBound * 6, rows = min(tiles.count * 6, walk.positions - first)
        transposeRows(staging, ld: 16, rows: rows, columns: columns, into: output + first, ldOut: walk.positions,
                      accumulate: accumulate)
    }

    @inline(never)
    static func gatherTiles8(_ walk: PositionWalk, tiles: Range<Int>, input: UnsafePointer<Float>,
                             offsets: UnsafePointer<Int>, packed: UnsafePointer<Float>, k: Int,
                             output: UnsafeMutablePointer<Float>, columns: Int, accumulate: Bool) {
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: tiles.count * 6 * 8)
        defer { staging.deallocate() }
        var cursor = walk.cursor(at: tiles.lowerBound * 6)
        for tile in tiles {
            let b = walk.bases(&cursor)
            var t = Tile6x16()
            gatherTile8(&t, input + b.0, input + b.1, input + b.2, input + b.3, input + b.4, input + b.5,
                        offsets: offsets, b: packed, k: k)
            let s = staging + (tile - tiles.lowerBound) * 48
            store8(t.c00, s); store8(t.c10, s + 8); store8(t.c20, s + 16)
            store8(t.c30, s + 24); store8(t.c40, s + 32); store8(t.c50, s + 40)
        }
        let first = tiles.lowerBound * 6, rows = min(tiles.count * 6, walk.positions - first)
        transposeRows(staging, ld: 8, rows: rows, columns: columns, into: output + first, ldOut: walk.positions,
                      accumulate: accumulate)
    }

    /// acc[k, o] += Σ_pos in[base(pos) + offsets[k]] · grad[pos, o] over the output grid, with grad a
    /// channels-last volume (`gradLayout`, whose `before` padding locates position (0, 0, 0)) and
    /// acc [k, blocks.padded]. Parts of the grid sum private accumulators (`Parallel.reduce`).
    static func implicitWeightGradient(input: UnsafePointer<Float>, layout: ChannelsLastVolume,
                                       offsets: UnsafePointer<Int>, k: Int,
                                       grad: UnsafePointer<Float>, gradLayout: ChannelsLastVolume, blocks: ChannelBlocks,
                                       outSize: (Int, Int, Int), stride: (Int, Int, Int),
                                       into acc: UnsafeMutablePointer<Float>) {
        let pass = WeightGradientPass(input: input, layout: layout, grad: grad, gradLayout: gradLayout,
                                      outSize: outSize, stride: stride)
        let rows = outSize.0 * outSize.1
        let width = blocks.padded
        // Row tiles of the (tap, channel) index k. With at least 6 channels a tile holds consecutive
        // channels of one tap (one pointer, 6 or 4 rows; rows past the tap are computed and dropped);
        // with fewer, a tile spans taps through 6 separate offsets.
        let channels = layout.channels
        var tiles: [(k0: Int, rows: Int)] = []
        if channels >= 6 {
            for tap in 0..<(k / channels) {
                var c = 0
                while c < channels {
                    let left = channels - c
                    let rows = left >= 6 || left == 5 ? 6 : 4
                    tiles.append((tap * channels + c, rows))
                    c += min(rows, left)
                }
            }
        } else {
            for k0 in Swift.stride(from: 0, to: k, by: 6) { tiles.append((k0, 0)) }
        }
        let tileList = UncheckedSendable(tiles)
        // Parts of the output rows fixed by the geometry, each summed into its own accumulator and the
        // accumulators added in order: the same gradient whatever the worker count and the scheduling.
        // At least 256 output positions a part, so that zeroing and adding the accumulators stays
        // small next to the part's work (measured: 8 parts of 128->128 @ 8^3 took twice as long).
        // Beyond 8 parts, one per 32768 positions: 64³ grids keep their 8 parts (and results), 128³
        // ones get 64, whose accumulators take 16 MB for 48 -> 48.
        let smallParts = min(Parallel.smallWorkParts, max(1, rows * outSize.2 / 256))
        Parallel.reduce(rows, grain: 2, span: max(1, 32768 / max(1, outSize.2)), smallParts: smallParts,
                        size: k * width, into: acc) { rowRange, target in
            // Chunks of output rows whose input and gradient rows stay in L2 (about 1 MB of floats):
            // longer passes amortise each tile's load and store (measured: 16 -> 64 KB of floats
            // per chunk took the 16->16 @ 64^3 weight gradient from ~55-70 to ~73 GFLOP per CPU-s).
            let chunk = max(1, min(32, (1 << 18) / max(1, outSize.2 * (pass.gs + pass.cs * 9))))
            var first = rowRange.lowerBound
            while first < rowRange.upperBound {
                let last = min(first + chunk, rowRange.upperBound)
                var blockOffset = 0
                let list = tileList.value, wide = usesAVX512
                for (_, bw) in blocks.blocks {
                    var index = 0
                    while index < list.count {
                        let (k0, tileRows) = list[index]
                        index += 1
                        let tile = target + k0 * width + blockOffset
                        let chunkRows = first..<last
                        if wide && bw == 16 && tileRows > 0 && index < list.count && list[index].rows > 0 {
                            // Two tap tiles at once, sharing each gradient load (AVX-512); a 4-row tile
                            // computes 6 rows and drops 2, as the 6-row tiles drop rows past their tap.
                            let (k1, nextRows) = list[index]
                            index += 1
                            weightTilePair512(pass, chunkRows, (offsets[k0], offsets[k1]), gradOffset: blockOffset,
                                              (tile, target + k1 * width + blockOffset), width,
                                              (min(tileRows, channels - k0 % channels), min(nextRows, channels - k1 % channels)))
                            continue
                        }
                        if tileRows == 0 {
                            var offs = (0, 0, 0, 0, 0, 0)
                            withUnsafeMutableBytes(of: &offs) { raw in
                                let o = raw.bindMemory(to: Int.self)
                                for r in 0..<6 { o[r] = offsets[min(k0 + r, k - 1)] }
                            }
                            let valid = min(6, k - k0)
                            if bw == 16 {
                                weightTileGathered16(pass, chunkRows, offs, gradOffset: blockOffset, tile, width, valid)
                            } else {
                                weightTileGathered8(pass, chunkRows, offs, gradOffset: blockOffset, tile, width, valid)
                            }
                        } else {
                            let valid = min(tileRows, channels - k0 % channels)
                            switch (tileRows, bw) {
                            case (6, 16): weightTile16x6(pass, chunkRows, offsets[k0], gradOffset: blockOffset, tile, width, valid)
                            case (4, 16): weightTile16x4(pass, chunkRows, offsets[k0], gradOffset: blockOffset, tile, width, valid)
                            default: weightTile8x6(pass, chunkRows, offsets[k0], gradOffset: blockOffset, tile, width, valid)
                            }
                        }
                    }
                    blockOffset += bw
                }
                first = last
            }
        }
    }

    @inline(__always)
    private static func loadTile(_ p: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int, wide: Bool) -> Tile6x16 {
        var t = Tile6x16()
        for r in 0..<valid {
            let q = p + r * ld
            t.setRow(r, (load8(q), wide ? load8(q + 8) : .zero))
        }
        return t
    }

    @inline(__always)
    private static func storeTile(_ t: Tile6x16, _ p: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int, wide: Bool) {
        for r in 0..<valid {
            let q = p + r * ld
            let (lo, hi) = t.row(r)
            store8(lo, q)
            if wide { store8(hi, q + 8) }
        }
    }

    /// Two `weightTile16x6` tiles in one 12 × 16 AVX-512 tile (WideKernels).
    @inline(never)
    static func weightTilePair512(_ pass: WeightGradientPass, _ rows: Range<Int>, _ offset: (Int, Int), gradOffset: Int,
                                  _ tile: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>), _ ld: Int,
                                  _ valid: (Int, Int)) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 192) { buffer in
            let t = buffer.baseAddress!
            t.initialize(repeating: 0, count: 192)
            for r in 0..<valid.0 { (t + r * 16).update(from: tile.0 + r * ld, count: 16) }
            for r in 0..<valid.1 { (t + 96 + r * 16).update(from: tile.1 + r * ld, count: 16) }
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 2 * rows.count) { pointers in
                let a = pointers.baseAddress!, g = a + rows.count
                for (i, row) in rows.enumerated() {
                    let (ap, gp) = pass.pointers(row)
                    (a + i).initialize(to: ap)
                    (g + i).initialize(to: gp + gradOffset)
                }
                WideKernels.weightTile12x16(aRows: a, gRows: g, count: rows.count, offset0: offset.0, offset1: offset.1,
                                            aStep: pass.aStep, gStep: pass.gs, n: pass.wo, tile: t)
            }
            for r in 0..<valid.0 { (tile.0 + r * ld).update(from: t + r * 16, count: 16) }
            for r in 0..<valid.1 { (tile.1 + r * ld).update(from: t + 96 + r * 16, count: 16) }
        }
    }

    @inline(never)
    static func weightTile16x6(_ pass: WeightGradientPass, _ rows: Range<Int>, _ offset: Int, gradOffset: Int,
                               _ tile: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int) {
        var t = loadTile(tile, ld, valid, wide: true)
        for row in rows {
            let (a, g) = pass.pointers(row)
            runTile16x6(&t, a: a + offset, aStep: pass.aStep, b: g + gradOffset, bStep: pass.gs, n: pass.wo)
        }
        storeTile(t, tile, ld, valid, wide: true)
    }

    @inline(never)
    static func weightTile16x4(_ pass: WeightGradientPass, _ rows: Range<Int>, _ offset: Int, gradOffset: Int,
                               _ tile: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int) {
        var t = loadTile(tile, ld, valid, wide: true)
        for row in rows {
            let (a, g) = pass.pointers(row)
            runTile16x4(&t, a: a + offset, aStep: pass.aStep, b: g + gradOffset, bStep: pass.gs, n: pass.wo)
        }
        storeTile(t, tile, ld, valid, wide: true)
    }

    @inline(never)
    static func weightTile8x6(_ pass: WeightGradientPass, _ rows: Range<Int>, _ offset: Int, gradOffset: Int,
                              _ tile: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int) {
        var t = loadTile(tile, ld, valid, wide: false)
        for row in rows {
            let (a, g) = pass.pointers(row)
            runTile8x6(&t, a: a + offset, aStep: pass.aStep, b: g + gradOffset, bStep: pass.gs, n: pass.wo)
        }
        storeTile(t, tile, ld, valid, wide: false)
    }

    @inline(never)
    static func weightTileGathered16(_ pass: WeightGradientPass, _ rows: Range<Int>, _ o: (Int, Int, Int, Int, Int, Int),
                                     gradOffset: Int, _ tile: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int) {
        var t = loadTile(tile, ld, valid, wide: true)
        for row in rows {
            let (a, g) = pass.pointers(row)
            stridedTile16(&t, a + o.0, a + o.1, a + o.2, a + o.3, a + o.4, a + o.5,
                          aStep: pass.aStep, b: g + gradOffset, bStep: pass.gs, n: pass.wo)
        }
        storeTile(t, tile, ld, valid, wide: true)
    }

    @inline(never)
    static func weightTileGathered8(_ pass: WeightGradientPass, _ rows: Range<Int>, _ o: (Int, Int, Int, Int, Int, Int),
                                    gradOffset: Int, _ tile: UnsafeMutablePointer<Float>, _ ld: Int, _ valid: Int) {
        var t = loadTile(tile, ld, valid, wide: false)
        for row in rows {
            let (a, g) = pass.pointers(row)
            stridedTile8(&t, a + o.0, a + o.1, a + o.2, a + o.3, a + o.4, a + o.5,
                         aStep: pass.aStep, b: g + gradOffset, bStep: pass.gs, n: pass.wo)
        }
        storeTile(t, tile, ld, valid, wide: false)
    }
}

/// Walks output positions in order and yields, six at a time, their patch bases in a padded
/// channels-last input (positions past the end repeat the last one).
struct PositionWalk {
    let positions: Int, ho: Int, wo: Int
    let planeStep: Int, rowStep: Int, columnStep: Int

    struct Cursor { var pos: Int, od: Int, oh: Int, ow: Int, base: Int }

    init(outSize: (Int, Int, Int), stride: (Int, Int, Int), layout: ChannelsLastVolume) {
        positions = outSize.0 * outSize.1 * outSize.2
        (ho, wo) = (outSize.1, outSize.2)
        let cs = layout.channelStride
        columnStep = stride.2 * cs
        rowStep = stride.1 * layout.size.w * cs
        planeStep = stride.0 * layout.size.h * layout.size.w * cs
    }

    func cursor(at pos: Int) -> Cursor {
        let od = pos / (ho * wo), rest = pos - od * ho * wo, oh = rest / wo, ow = rest - oh * wo
        return Cursor(pos: pos, od: od, oh: oh, ow: ow, base: od * planeStep + oh * rowStep + ow * columnStep)
    }

    @inline(__always)
    func bases(_ c: inout Cursor) -> (Int, Int, Int, Int, Int, Int) {
        var b = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &b) { raw in
            let p = raw.bindMemory(to: Int.self)
            for r in 0..<6 {
                p[r] = c.base
                if c.pos + 1 < positions {  // advance; the last position repeats
                    c.pos += 1
                    c.ow += 1
                    c.base += columnStep
                    if c.ow == wo {
                        c.ow = 0
                        c.oh += 1
                        if c.oh == ho {
                            c.oh = 0
                            c.od += 1
                        }
                        c.base = c.od * planeStep + c.oh * rowStep
                    }
                }
            }
        }
        return b
    }
}

/// Where the weight-gradient tiles find an output row's input patch base and its gradient row.
struct WeightGradientPass {
    let input: UnsafePointer<Float>, grad: UnsafePointer<Float>
    let ho: Int, wo: Int, hp: Int, wp: Int, cs: Int, gs: Int, hq: Int, wq: Int
    let qd: Int, qh: Int, qw: Int, sd: Int, sh: Int, aStep: Int

    init(input: UnsafePointer<Float>, layout: ChannelsLastVolume, grad: UnsafePointer<Float>,
         gradLayout: ChannelsLastVolume, outSize: (Int, Int, Int), stride: (Int, Int, Int)) {
        self.input = input
        self.grad = grad
        (ho, wo) = (outSize.1, outSize.2)
        (hp, wp, cs) = (layout.size.h, layout.size.w, layout.channelStride)
        (hq, wq, gs) = (gradLayout.size.h, gradLayout.size.w, gradLayout.channelStride)
        (qd, qh, qw) = gradLayout.before
        (sd, sh) = (stride.0, stride.1)
        aStep = stride.2 * layout.channelStride
    }

    /// The input patch base and the gradient row of output row `row` = od · Ho + oh.
    @inline(__always)
    func pointers(_ row: Int) -> (UnsafePointer<Float>, UnsafePointer<Float>) {
        let od = row / ho, oh = row - od * ho
        return (input + (od * sd * hp + oh * sh) * wp * cs, grad + (((od + qd) * hq + oh + qh) * wq + qw) * gs)
    }
}

extension ConvGeometry {
    /// Whether the implicit-GEMM kernels handle this geometry (any stride for the forward and the
    /// weight gradient; the data gradient needs stride 1 and padding < kernel).
    var implicitDataGradient: Bool {
        stride == [1, 1, 1] && (0..<3).allSatisfy { padding[$0] < kernel[$0] }
    }
}

extension Kernels {
    /// Offsets of the (tap, channel) pairs of a kernel in a channels-last layout, tap-major.
    static func patchOffsets(kernel: [Int], channels: Int, layout: ChannelsLastVolume,
                             into offsets: UnsafeMutablePointer<Int>) {
        let (kd, kh, kw) = (kernel[0], kernel[1], kernel[2])
        let cs = layout.channelStride, (Hp, Wp) = (layout.size.h, layout.size.w)
        var k = 0
        for a in 0..<kd { for b in 0..<kh { for c in 0..<kw {
            let base = ((a * Hp + b) * Wp + c) * cs
            for ch in 0..<channels {
                offsets[k] = base + ch
                k += 1
            }
        }}}
    }

    /// Forward convolution of one batch entry by the implicit GEMM: y[Co, P] = conv(x) (overwritten).
    static func implicitConvForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    into y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let taps = g.kernel.elementCount, ci = g.inChannels
        let layout = ChannelsLastVolume(
            size: (g.input[0] + 2 * g.padding[0], g.input[1] + 2 * g.padding[1], g.input[2] + 2 * g.padding[2]),
            before: (g.padding[0], g.padding[1], g.padding[2]), channels: ci, channelStride: ci)
        let xp = Storage(count: layout.allocation)
        Profiler.detail("  conv.layout") { toChannelsLast(x, dhw: (g.input[0], g.input[1], g.input[2]), layout, into: xp.pointer) }
        let k = taps * ci
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
        defer { offsets.deallocate() }
        patchOffsets(kernel: g.kernel, channels: ci, layout: layout, into: offsets)
        let blocks = ChannelBlocks(g.outChannels)
        let packed = Storage(count: k * blocks.padded)
        packGatherWeights(blocks, inner: ci, taps: taps, into: packed.pointer) { o, i, tap in
            weight[(o * ci + i) * taps + tap]
        }
        let out = g.output
        KernelCounters.flops.add(g.flops, ordering: .relaxed)
        Profiler.detail("  conv.forward tiles") {
            implicitGemm(input: xp.pointer, layout: layout, offsets: offsets, k: k, packed: packed.pointer, blocks: blocks,
                         outSize: (out[0], out[1], out[2]), stride: (g.stride[0], g.stride[1], g.stride[2]),
                         output: y, accumulate: false)
        }
    }

    /// The gradient dy [Co, Do, Ho, Wo] in channels-last form, padded by kernel − 1 − padding on every
    /// side when the data gradient will use it (stride 1), else unpadded.
    static func gradientLayout(_ g: ConvGeometry) -> ChannelsLastVolume {
        let out = g.output
        let pad = g.implicitDataGradient ? (0..<3).map { g.kernel[$0] - 1 - g.padding[$0] } : [0, 0, 0]
        return ChannelsLastVolume(size: (out[0] + 2 * pad[0], out[1] + 2 * pad[1], out[2] + 2 * pad[2]),
                                  before: (pad[0], pad[1], pad[2]), channels: g.outChannels,
                                  channelStride: ChannelBlocks(g.outChannels).padded)
    }

    /// Both gradients of one batch entry by the implicit GEMM: dx += convᵀ(dy) (when `dx` is given and
    /// the geometry allows it) and dw += dy ⋆ x (when `dw` is given).
    static func implicitConvBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, _ g: ConvGeometry,
                                     overwriteData: Bool = false, overwriteWeight: Bool = false) {
        let taps = g.kernel.elementCount, ci = g.inChannels, co = g.outChannels
        let out = g.output
        let gradLayout = gradientLayout(g)
        let dyp = Storage(count: gradLayout.allocation)
        Profiler.detail("  conv.layout") { toChannelsLast(dy, dhw: (out[0], out[1], out[2]), gradLayout, into: dyp.pointer) }
        if let dx {
            precondition(g.implicitDataGradient, "implicit data gradient needs stride 1")
            // dx[ci, i] = Σ_{tap', co} dyp[i + tap', co] · w[co, ci, flip(tap')]
            let k = taps * co
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
            defer { offsets.deallocate() }
            patchOffsets(kernel: g.kernel, channels: co, layout: gradLayout, into: offsets)
            let blocks = ChannelBlocks(ci)
            let packed = Storage(count: k * blocks.padded)
            packGatherWeights(blocks, inner: co, taps: taps, into: packed.pointer) { i, o, tap in
                weight[(o * ci + i) * taps + (taps - 1 - tap)]
            }
            KernelCounters.flops.add(g.flops, ordering: .relaxed)
            Profiler.detail("  conv.data tiles") {
                implicitGemm(input: dyp.pointer, layout: gradLayout, offsets: offsets, k: k, packed: packed.pointer,
                             blocks: blocks, outSize: (g.input[0], g.input[1], g.input[2]), stride: (1, 1, 1),
                             output: dx, accumulate: !overwriteData)
            }
        }
        if let dw {
            KernelCounters.weightGradients.add(1, ordering: .relaxed)
            let layout = ChannelsLastVolume(
                size: (g.input[0] + 2 * g.padding[0], g.input[1] + 2 * g.padding[1], g.input[2] + 2 * g.padding[2]),
                before: (g.padding[0], g.padding[1], g.padding[2]), channels: ci, channelStride: ci)
            let xp = Storage(count: layout.allocation)
            Profiler.detail("  conv.layout") { toChannelsLast(x, dhw: (g.input[0], g.input[1], g.input[2]), layout, into: xp.pointer) }
            let k = taps * ci
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
            defer { offsets.deallocate() }
            patchOffsets(kernel: g.kernel, channels: ci, layout: layout, into: offsets)
            let blocks = ChannelBlocks(co)
            let acc = Storage(zeros: k * blocks.padded)
            KernelCounters.flops.add(g.flops, ordering: .relaxed)
            Profiler.detail("  conv.weight tiles") {
                implicitWeightGradient(input: xp.pointer, layout: layout, offsets: offsets, k: k, grad: dyp.pointer,
                                       gradLayout: gradLayout, blocks: blocks, outSize: (out[0], out[1], out[2]),
                                       stride: (g.stride[0], g.stride[1], g.stride[2]), into: acc.pointer)
            }
            // acc[(tap, i), o] → dw[o, i, tap]
            // A strided transpose (40 ms for a 384 → 384 kernel): spread over the output channels,
            // whose rows of dw are disjoint.
            let width = blocks.padded, source = acc.pointer
            Parallel.forEach(co, grain: max(1, 32768 / max(1, ci * taps))) { outputs in
                for o in outputs {
                    for i in 0..<ci {
                        let row = dw + (o * ci + i) * taps
                        if overwriteWeight {
                            for tap in 0..<taps { row[tap] = source[(tap * ci + i) * width + o] }
                        } else {
                            for tap in 0..<taps { row[tap] += source[(tap * ci + i) * width + o] }
                        }
                    }
                }
            }
        }
    }
}

