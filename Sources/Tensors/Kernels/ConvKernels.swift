/// The shape of a 3-D convolution: input [Ci, D, H, W] → output [Co, Do, Ho, Wo] with a
/// [Co, Ci, kd, kh, kw] kernel (PyTorch layout; dilation 1).
public struct ConvGeometry: Equatable, Sendable {
    public var inChannels: Int, outChannels: Int
    public var input: [Int], kernel: [Int], stride: [Int], padding: [Int]

    public init(inChannels: Int, outChannels: Int, input: [Int], kernel: [Int], stride: [Int], padding: [Int]) {
        (self.inChannels, self.outChannels) = (inChannels, outChannels)
        (self.input, self.kernel, self.stride, self.padding) = (input, kernel, stride, padding)
    }

    public var output: [Int] { (0..<3).map { (input[$0] + 2 * padding[$0] - kernel[$0]) / stride[$0] + 1 } }
    var inputVolume: Int { input.elementCount }
    var outputVolume: Int { output.elementCount }
    /// Rows of the unfolded input: one per (input channel, kernel offset).
    var patchSize: Int { inChannels * kernel.elementCount }
    var isPointwise: Bool { kernel == [1, 1, 1] && stride == [1, 1, 1] && padding == [0, 0, 0] }
    public var flops: Int { 2 * outChannels * patchSize * outputVolume }

    /// Output positions per unfolded chunk: about a megabyte of patches, so a chunk stays in cache.
    var chunk: Int { min(outputVolume, max(32, (1 << 18) / patchSize)) }
}

/// Convolution as GEMMs over unfolded chunks of the input (vol2col), so no full unfolded volume is
/// ever held. Each worker unfolds its own chunks into its own scratch.
extension Kernels {
    /// y[Co, P] = W[Co, K] · unfold(x)[K, P] for one batch entry (y is overwritten).
    public static func convForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   into y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        if g.isPointwise {
            gemm(m: g.outChannels, n: p, k: k, a: weight, lda: k, b: x, ldb: p, c: y, ldc: p)
            return
        }
        if g.isPatchwise {
            patchwiseConvForward(x, weight: weight, into: y, g)
        } else {
            implicitConvForward(x, weight: weight, into: y, g)
        }
    }

    /// Both gradients of one batch entry: dx += convᵀ(dy) when `dx` is given, dw += dy ⋆ x when `dw` is
    /// given; with `overwriteData` / `overwriteWeight`, = instead of += (into uninitialised buffers).
    public static func convBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, _ g: ConvGeometry,
                                    overwriteData: Bool = false, overwriteWeight: Bool = false) {
        if g.isPointwise {
            let k = g.patchSize, p = g.outputVolume
            if let dx {
                gemm(transA: true, m: k, n: p, k: g.outChannels, a: weight, lda: k, b: dy, ldb: p,
                     beta: overwriteData ? 0 : 1, c: dx, ldc: p)
            }
            if let dw {
                KernelCounters.weightGradients.add(1, ordering: .relaxed)
                gemm(transB: true, m: g.outChannels, n: k, k: p, a: dy, lda: p, b: x, ldb: p,
                     beta: overwriteWeight ? 0 : 1, c: dw, ldc: k)
            }
            return
        }
        if g.isPatchwise {
            patchwiseConvBackward(x, dy, weight: weight, dx: dx, dw: dw, g, overwriteData: overwriteData,
                                  overwriteWeight: overwriteWeight)
            return
        }
        if let dx, !g.implicitDataGradient {
            if overwriteData { dx.update(repeating: 0, count: g.inChannels * g.inputVolume) }
            unfoldedConvBackwardData(dy, weight: weight, into: dx, g)
            if dw != nil { implicitConvBackward(x, dy, weight: weight, dx: nil, dw: dw, g, overwriteWeight: overwriteWeight) }
            return
        }
        implicitConvBackward(x, dy, weight: weight, dx: dx, dw: dw, g, overwriteData: overwriteData,
                             overwriteWeight: overwriteWeight)
    }

    /// The vol2col forward (kept as a reference for tests).
    package static func unfoldedConvForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    into y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        let chunk = g.chunk, chunks = (p + chunk - 1) / chunk
        Parallel.forEach(chunks) { range in
            let col = Storage(count: k * chunk)
            for c in range {
                let start = c * chunk, width = min(chunk, p - start)
                unfold(x, g, positions: start..<(start + width), into: col.pointer, ld: width)
                gemm(m: g.outChannels, n: width, k: k, a: weight, lda: k, b: col.pointer, ldb: width,
                     c: y + start, ldc: p, parallel: false)
            }
        }
    }

    /// dx[Ci, DHW] += convᵀ(dy) for one batch entry (= with `overwrite`, into an uninitialised buffer).
    public static func convBackwardData(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                        into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry, overwrite: Bool = false) {
        convBackward(dy, dy, weight: weight, dx: dx, dw: nil, g, overwriteData: overwrite)
    }

    /// The vol2col data gradient (any stride).
    package static func unfoldedConvBackwardData(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                         into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume, taps = g.kernel.elementCount
        let chunk = g.chunk
        // Parts of the input channels (whose unfolded rows never overlap) fixed by the geometry: the
        // products' shapes, and so their results, do not depend on the worker count.
        let channelWork = taps * g.outChannels * p
        Parallel.forEachPart(g.inChannels, span: max(1, gemmPartWork / max(1, channelWork))) { channels in
            let rows = channels.count * taps, firstRow = channels.lowerBound * taps
            let col = Storage(count: rows * chunk)
            var start = 0
            while start < p {
                let width = min(chunk, p - start)
                gemm(transA: true, m: rows, n: width, k: g.outChannels, a: weight + firstRow, lda: k,
                     b: dy + start, ldb: p, c: col.pointer, ldc: width, parallel: false)
                fold(col.pointer, ld: width, g, channels: channels, positions: start..<(start + width), into: dx)
                start += width
            }
        }
    }

    /// dW[Co, K] += dy[Co, P] · unfold(x)ᵀ for one batch entry; workers sum private copies.
    public static func convBackwardWeight(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                          into dw: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        if g.isPointwise {
            KernelCounters.weightGradients.add(1, ordering: .relaxed)
            gemm(transB: true, m: g.outChannels, n: k, k: p, a: dy, lda: p, b: x, ldb: p, beta: 1, c: dw, ldc: k)
            return
        }
        implicitConvBackward(x, dy, weight: dy, dx: nil, dw: dw, g)
    }

    /// The vol2col weight gradient (kept as a reference for tests).
    package static func unfoldedConvBackwardWeight(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                           into dw: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        KernelCounters.weightGradients.add(1, ordering: .relaxed)
        let chunk = g.chunk, chunks = (p + chunk - 1) / chunk
        // Beyond 8 parts, one per 32 chunks: each part's accumulator stays small next to its products.
        Parallel.reduce(chunks, span: 32, size: g.outChannels * k, into: dw) { range, target in
            let col = Storage(count: k * chunk)
            for c in range {
                let start = c * chunk, width = min(chunk, p - start)
                unfold(x, g, positions: start..<(start + width), into: col.pointer, ld: width)
                gemm(transB: true, m: g.outChannels, n: k, k: width, a: dy + start, lda: p, b: col.pointer, ldb: width,
                     beta: 1, c: target, ldc: k, parallel: false)
            }
        }
    }

    /// Writes the patches of output positions `positions` as columns: row (ci, a, b, c), column q.
    static func unfold(_ x: UnsafePointer<Float>, _ g: ConvGeometry, positions: Range<Int>,
                       into col: UnsafeMutablePointer<Float>, ld: Int) {
        walkPatches(g, channels: 0..<g.inChannels, positions: positions) { row, column, source, count, step in
            let dst = col + row * ld + column
            guard let source else { dst.update(repeating: 0, count: count); return }
            if step == 1 {
                dst.update(from: x + source, count: count)
            } else {
                for i in 0..<count { dst[i] = x[source + i * step] }
            }
        }
    }

    /// Adds columns back onto the input positions they were unfolded from (the adjoint of `unfold`).
    static func fold(_ col: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry, channels: Range<Int>,
                     positions: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let firstRow = channels.lowerBound * g.kernel.elementCount
        walkPatches(g, channels: channels, positions: positions) { row, column, source, count, step in
            guard let source else { return }
            let src = col + (row - firstRow) * ld + column
            for i in 0..<count { dx[source + i * step] += src[i] }
        }
    }

    /// For each unfolded row (ci, a, b, c) and each run of output positions sharing (od, oh), reports
    /// the run's column, its source offset in x (nil where it lies in the padding) and the x step
    /// between columns. Runs are trimmed so that only in-bounds elements get a source.
    private static func walkPatches(
        _ g: ConvGeometry, channels: Range<Int>, positions: Range<Int>,
        _ visit: (_ row: Int, _ column: Int, _ source: Int?, _ count: Int, _ step: Int) -> Void
    ) {
        let (D, H, W) = (g.input[0], g.input[1], g.input[2])
        let (Ho, Wo) = (g.output[1], g.output[2])
        let (kd, kh, kw) = (g.kernel[0], g.kernel[1], g.kernel[2])
        let (sd, sh, sw) = (g.stride[0], g.stride[1], g.stride[2])
        let (pd, ph, pw) = (g.padding[0], g.padding[1], g.padding[2])
        for ci in channels {
            for a in 0..<kd { for b in 0..<kh { for c in 0..<kw {
                let row = ((ci * kd + a) * kh + b) * kw + c
                // Output columns ow whose input column iw = ow·sw − pw + c lies inside [0, W).
                let owLow = max(0, (pw - c + sw - 1) / sw)
                let owHigh = min(Wo, (W + pw - c + sw - 1) / sw)
                var q = positions.lowerBound
                while q < positions.upperBound {
                    let od = q / (Ho * Wo), oh = (q / Wo) % Ho, ow0 = q % Wo
                    let ow1 = min(Wo, ow0 + positions.upperBound - q)
                    let column = q - positions.lowerBound
                    let id = od * sd - pd + a, ih = oh * sh - ph + b
                    if id < 0 || id >= D || ih < 0 || ih >= H || owLow >= owHigh {
                        visit(row, column, nil, ow1 - ow0, sw)
                    } else {
                        let lo = min(max(ow0, owLow), ow1), hi = max(min(ow1, owHigh), lo)
                        if lo > ow0 { visit(row, column, nil, lo - ow0, sw) }
                        if hi > lo {
                            let base = ((ci * D + id) * H + ih) * W + lo * sw - pw + c
                            visit(row, column + lo - ow0, base, hi - lo, sw)
                        }
                        if ow1 > hi { visit(row, column + hi - ow0, nil, ow1 - hi, sw) }
                    }
                    q += ow1 - ow0
                }
            }}}
        }
    }
}

/// Convolutions whose kernel equals their stride (no padding): non-overlapping patches, so the
/// patch matrix is a pure rearrangement (space-to-depth) and each op is one GEMM plus a copy.
/// This covers patch embeddings (conv3d) and MONAI's ×2 up-sampling (transposed conv3d, k = s = 2).
extension ConvGeometry {
    var isPatchwise: Bool { kernel == stride && padding == [0, 0, 0] && kernel != [1, 1, 1] }
}

extension Kernels {
    /// p[(c, a, b, e), (d, h, w)] = x[c, d·s0 + a, h·s1 + b, w·s2 + e] over the output grid `out`
    /// (x's spatial size `input` may exceed out·s; the excess is not read).
    static func spaceToDepth(_ x: UnsafePointer<Float>, channels: Int, input: [Int], out: [Int], kernel s: [Int],
                             into p: UnsafeMutablePointer<Float>) {
        let (D, H, W) = (out[0], out[1], out[2]), (IH, IW) = (input[1], input[2])
        let taps = s[0] * s[1] * s[2], volume = D * H * W, inVolume = input.elementCount
        Parallel.forEach(channels * taps, grain: max(1, 8192 / max(1, volume))) { rows in
            for row in rows {
                let c = row / taps, tap = row % taps
                let a = tap / (s[1] * s[2]), b = (tap / s[2]) % s[1], e = tap % s[2]
                let dst = p + row * volume, src = x + c * inVolume
                for d in 0..<D { for h in 0..<H {
                    let line = src + ((d * s[0] + a) * IH + h * s[1] + b) * IW + e
                    let o = dst + (d * H + h) * W
                    if s[2] == 1 { o.update(from: line, count: W) } else { for w in 0..<W { o[w] = line[w * s[2]] } }
                }}
            }
        }
    }

    /// The inverse of `spaceToDepth`: x (=|+=) the rearranged p (positions outside out·s untouched;
    /// with `accumulate == false` the caller must zero them when the grid does not cover x).
    static func depthToSpace(_ p: UnsafePointer<Float>, channels: Int, input: [Int], out: [Int], kernel s: [Int],
                             into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let (D, H, W) = (out[0], out[1], out[2]), (IH, IW) = (input[1], input[2])
        let taps = s[0] * s[1] * s[2], volume = D * H * W, inVolume = input.elementCount
        // Workers split channels, so no two write the same element.
        Parallel.forEach(channels, grain: max(1, 8192 / max(1, volume * taps))) { range in
            for c in range {
                for tap in 0..<taps {
                    let a = tap / (s[1] * s[2]), b = (tap / s[2]) % s[1], e = tap % s[2]
                    let src = p + (c * taps + tap) * volume, dst = x + c * inVolume
                    for d in 0..<D { for h in 0..<H {
                        let line = dst + ((d * s[0] + a) * IH + h * s[1] + b) * IW + e
                        let i = src + (d * H + h) * W
                        if accumulate {
                            for w in 0..<W { line[w * s[2]] += i[w] }
                        } else {
                            for w in 0..<W { line[w * s[2]] = i[w] }
                        }
                    }}
                }
            }
        }
    }

    /// Patchwise conv3d forward of one batch entry: y[Co, P] = W[Co, Ci·T] · spaceToDepth(x).
    static func patchwiseConvForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     into y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        let patches = Storage(count: k * p)
        spaceToDepth(x, channels: g.inChannels, input: g.input, out: g.output, kernel: g.kernel, into: patches.pointer)
        gemm(m: g.outChannels, n: p, k: k, a: weight, lda: k, b: patches.pointer, ldb: p, c: y, ldc: p)
    }

    /// Patchwise conv3d gradients of one batch entry (dx and/or dw; = or += as flagged).
    static func patchwiseConvBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                      dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, _ g: ConvGeometry,
                                      overwriteData: Bool, overwriteWeight: Bool) {
        let k = g.patchSize, p = g.outputVolume
        let patches = Storage(count: k * p)
        if let dx {
            gemm(transA: true, m: k, n: p, k: g.outChannels, a: weight, lda: k, b: dy, ldb: p, c: patches.pointer, ldc: p)
            let covered = (0..<3).allSatisfy { g.output[$0] * g.stride[$0] == g.input[$0] }
            if overwriteData && !covered { dx.update(repeating: 0, count: g.inChannels * g.inputVolume) }
            depthToSpace(patches.pointer, channels: g.inChannels, input: g.input, out: g.output, kernel: g.kernel,
                         into: dx, accumulate: !overwriteData || !covered)
        }
        if let dw {
            KernelCounters.weightGradients.add(1, ordering: .relaxed)
            spaceToDepth(x, channels: g.inChannels, input: g.input, out: g.output, kernel: g.kernel, into: patches.pointer)
            gemm(transB: true, m: g.outChannels, n: k, k: p, a: dy, lda: p, b: patches.pointer, ldb: p,
                 beta: overwriteWeight ? 0 : 1, c: dw, ldc: k)
        }
    }

    /// Patchwise transposed conv3d of one batch entry, x [Ci, P] with weight [Ci, Co·T] → y [Co, P·T]
    /// (`g` is the adjoint convolution: from y-space, Co channels, to x-space, Ci channels).
    static func patchwiseTransposedForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                           into y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume  // k = Co·T rows of the rearranged output
        let z = Storage(count: k * p)
        gemm(transA: true, m: k, n: p, k: g.outChannels, a: weight, lda: k, b: x, ldb: p, c: z.pointer, ldc: p)
        let covered = (0..<3).allSatisfy { g.output[$0] * g.stride[$0] == g.input[$0] }
        if !covered { y.update(repeating: 0, count: g.inChannels * g.inputVolume) }
        depthToSpace(z.pointer, channels: g.inChannels, input: g.input, out: g.output, kernel: g.kernel,
                     into: y, accumulate: false)
    }

    /// Gradients of `patchwiseTransposedForward` (dx [Ci, P] and/or dw [Ci, Co·T]; = or += as flagged).
    static func patchwiseTransposedBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                            weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                            dw: UnsafeMutablePointer<Float>?, _ g: ConvGeometry,
                                            overwriteData: Bool, overwriteWeight: Bool) {
        let k = g.patchSize, p = g.outputVolume
        let dz = Storage(count: k * p)
        spaceToDepth(dy, channels: g.inChannels, input: g.input, out: g.output, kernel: g.kernel, into: dz.pointer)
        if let dx {
            gemm(m: g.outChannels, n: p, k: k, a: weight, lda: k, b: dz.pointer, ldb: p,
                 beta: overwriteData ? 0 : 1, c: dx, ldc: p)
        }
        if let dw {
            KernelCounters.weightGradients.add(1, ordering: .relaxed)
            gemm(transB: true, m: g.outChannels, n: k, k: p, a: x, lda: p, b: dz.pointer, ldb: p,
                 beta: overwriteWeight ? 0 : 1, c: dw, ldc: k)
        }
    }
}
