import Foundation

/// Eight floats from any address (the kernels' buffers are not 32-byte aligned).
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Contiguous vector kernels. Maps are plain loops (they autovectorise with AVX2); reductions use
/// explicit SIMD accumulators because Swift never reassociates floating-point sums.
extension Kernels {
    /// Elements per worker below which splitting a memory-bound map is not worth a thread.
    static let mapGrain = 1 << 16

    @inline(__always)
    static func parallelMap(_ count: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEach(count, grain: mapGrain, body)
    }

    public static func sum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 32 <= n {
            acc0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            acc1 += raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
            acc2 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD8<Float>.self)
            acc3 += raw.loadUnaligned(fromByteOffset: (i + 24) * 4, as: SIMD8<Float>.self)
            i += 32
        }
        var total = ((acc0 + acc1) + (acc2 + acc3)).sum()
        while i < n { total += p[i]; i += 1 }
        return total
    }

    /// Σ p[i]·q[i].
    public static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
        var i = 0
        while i + 16 <= n {
            acc0.addProduct(rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                            rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            acc1.addProduct(rp.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self),
                            rq.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self))
            i += 16
        }
        var total = (acc0 + acc1).sum()
        while i < n { total += p[i] * q[i]; i += 1 }
        return total
    }

    /// Σ (p[i] − mean)², in Double for stability of normalisation statistics.
    static func sumSquaredDeviation(_ p: UnsafePointer<Float>, count n: Int, mean: Float) -> Double {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        let rp = UnsafeRawPointer(p)
        var i = 0
        var total = 0.0
        while i + 16 <= n {
            let d0 = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m
            let d1 = rp.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) - m
            acc0.addProduct(d0, d0)
            acc1.addProduct(d1, d1)
            i += 16
            if i & 4095 == 0 {  // flush to Double now and then, so long sums keep their precision
                total += Double((acc0 + acc1).sum())
                acc0 = .zero; acc1 = .zero
            }
        }
        total += Double((acc0 + acc1).sum())
        while i < n { let d = p[i] - mean; total += Double(d * d); i += 1 }
        return total
    }

    /// Σ p[i] in Double, with partial sums in Float blocks.
    static func sumDouble(_ p: UnsafePointer<Float>, count n: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < n {
            let len = min(4096, n - start)
            total += Double(sum(p + start, count: len))
            start += len
        }
        return total
    }

    public static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        parallelMap(n) { r in for i in r { dst[i] += src[i] } }
    }

    public static func scale(_ p: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
        parallelMap(n) { r in for i in r { p[i] *= s } }
    }

    public static func copy(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        parallelMap(n) { r in (dst + r.lowerBound).update(from: src + r.lowerBound, count: r.count) }
    }

    public static func maxAbs(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var m: Float = 0
        for i in 0..<n { m = max(m, abs(p[i])) }
        return m
    }

    public static func allFinite(_ p: UnsafePointer<Float>, count n: Int) -> Bool {
        for i in 0..<n where !p[i].isFinite { return false }
        return true
    }

    /// (Σ g[i], Σ g[i]·(x[i] − mean)) in Double, with Float SIMD partial sums flushed every 4096 elements.
    static func sumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: Float,
                                  count n: Int) -> (Double, Double) {
        var totalG = 0.0, totalGX = 0.0
        let m = SIMD8<Float>(repeating: mean)
        let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x)
        var start = 0
        while start < n {
            let end = min(n, start + 4096)
            var g0 = SIMD8<Float>(), g1 = SIMD8<Float>(), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
            var i = start
            while i + 16 <= end {
                let a0 = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let a1 = rg.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                g0 += a0; g1 += a1
                d0.addProduct(a0, rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
                d1.addProduct(a1, rx.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) - m)
                i += 16
            }
            var sg = (g0 + g1).sum(), sd = (d0 + d1).sum()
            while i < end { sg += g[i]; sd += g[i] * (x[i] - mean); i += 1 }
            totalG += Double(sg); totalGX += Double(sd)
            start = end
        }
        return (totalG, totalGX)
    }

    /// One row of instance norm's data gradient: out (=|+=) s · (w·g − meanG − (x − μ)·s·meanGX).
    static func instanceNormBackwardRow(x: UnsafePointer<Float>, gradient g: UnsafePointer<Float>, weight w: Float,
                                        mean: Float, rstd s: Float, meanG: Float, meanGX: Float, count n: Int,
                                        into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        // s·w·g − s·meanG − s²·meanGX·x + s²·meanGX·μ  =  a·g + b·x + c
        let a = s * w, b = -s * s * meanGX, c = -s * meanG + s * s * meanGX * mean
        if accumulate {
            for i in 0..<n { out[i] += a * g[i] + b * x[i] + c }
        } else {
            for i in 0..<n { out[i] = a * g[i] + b * x[i] + c }
        }
    }

    /// One row of layer norm's data gradient, with a per-column weight (or none).
    static func normalizationBackwardRow(x: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
                                         columnWeight pw: UnsafePointer<Float>?, rowWeight: Float, mean mu: Float,
                                         rstd s: Float, count n: Int, into out: UnsafeMutablePointer<Float>,
                                         accumulate: Bool) {
        var sumG = 0.0, sumGX = 0.0
        if let pw {
            for i in 0..<n { let d = g[i] * pw[i]; sumG += Double(d); sumGX += Double(d * (x[i] - mu)) }
        } else {
            (sumG, sumGX) = sumAndCenteredDot(g, x, mean: mu, count: n)
        }
        let meanG = Float(sumG / Double(n)), meanGX = Float(sumGX / Double(n)) * s
        if let pw {
            if accumulate {
                for i in 0..<n { out[i] += s * (g[i] * pw[i] - meanG - (x[i] - mu) * s * meanGX) }
            } else {
                for i in 0..<n { out[i] = s * (g[i] * pw[i] - meanG - (x[i] - mu) * s * meanGX) }
            }
        } else {
            instanceNormBackwardRow(x: x, gradient: g, weight: rowWeight, mean: mu, rstd: s, meanG: meanG,
                                    meanGX: meanGX, count: n, into: out, accumulate: accumulate)
        }
    }
}
