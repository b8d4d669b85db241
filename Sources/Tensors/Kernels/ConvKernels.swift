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
        implicitConvForward(x, weight: weight, into: y, g)
    }

    /// Both gradients of one batch entry: dx += convᵀ(dy) when `dx` is given, dw += dy ⋆ x when `dw` is given.
    public static func convBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, _ g: ConvGeometry) {
        if g.isPointwise {
            if let dx { convBackwardData(dy, weight: weight, into: dx, g) }
            if let dw { convBackwardWeight(x, dy, into: dw, g) }
            return
        }
        if let dx, !g.implicitDataGradient {
            unfoldedConvBackwardData(dy, weight: weight, into: dx, g)
            if dw != nil { implicitConvBackward(x, dy, weight: weight, dx: nil, dw: dw, g) }
            return
        }
        implicitConvBackward(x, dy, weight: weight, dx: dx, dw: dw, g)
    }

    /// The vol2col forward (kept as a reference for tests).
    static func unfoldedConvForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
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

    /// dx[Ci, DHW] += fold(Wᵀ · dy) for one batch entry. Workers split the input channels, whose
    /// unfolded rows never overlap.
    public static func convBackwardData(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                        into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        if g.isPointwise {
            gemm(transA: true, m: k, n: p, k: g.outChannels, a: weight, lda: k, b: dy, ldb: p, beta: 1, c: dx, ldc: p)
            return
        }
        if g.implicitDataGradient {
            implicitConvBackward(dy, dy, weight: weight, dx: dx, dw: nil, g)
        } else {
            unfoldedConvBackwardData(dy, weight: weight, into: dx, g)
        }
    }

    /// The vol2col data gradient (any stride).
    static func unfoldedConvBackwardData(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                         into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume, taps = g.kernel.elementCount
        let chunk = g.chunk
        Parallel.forEach(g.inChannels) { channels in
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
    static func unfoldedConvBackwardWeight(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                           into dw: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let k = g.patchSize, p = g.outputVolume
        KernelCounters.weightGradients.add(1, ordering: .relaxed)
        let chunk = g.chunk, chunks = (p + chunk - 1) / chunk
        let workers = min(Parallel.workers, chunks)
        let partials = (1..<max(workers, 1)).map { _ in Storage(zeros: g.outChannels * k) }
        Parallel.forEachWorker(chunks) { worker, range in
            let target = worker == 0 ? dw : partials[worker - 1].pointer
            let col = Storage(count: k * chunk)
            for c in range {
                let start = c * chunk, width = min(chunk, p - start)
                unfold(x, g, positions: start..<(start + width), into: col.pointer, ld: width)
                gemm(transB: true, m: g.outChannels, n: k, k: width, a: dy + start, lda: p, b: col.pointer, ldb: width,
                     beta: 1, c: target, ldc: k, parallel: false)
            }
        }
        for partial in partials { add(partial.pointer, into: dw, count: g.outChannels * k) }
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
