import Foundation

/// Vectorised pointwise kernels (AVX2 through SIMD8): activations and their derivatives, written in
/// one pass with no per-element closure calls. A backward kernel either overwrites the gradient
/// (`accumulate == false`, a gradient buffer that was just made) or adds to it.

extension Kernels {
    /// e^x for 8 lanes: Cephes' expf (range reduction by ln 2, degree-6 polynomial), about 1 ulp
    /// on [-87, 88]; inputs below underflow to 0, above saturate to +inf. Written with plain lane
    /// arithmetic and bit casts only: the generic SIMD conversions and `clamped` of the standard
    /// library compile to unspecialised calls.
    @inline(__always)
    public static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.33654), hi = SIMD8<Float>(repeating: 88.72283)
        var v = x.replacing(with: lo, where: x .< lo)
        v.replace(with: hi, where: v .> hi)
        // n = round(v / ln 2) by the 1.5·2²³ trick: its low mantissa bits then hold n as an integer.
        let magic = SIMD8<Float>(repeating: 12582912)
        let shifted = v * 1.44269504088896341 + magic
        let n = shifted - magic
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        // r = v − n·ln2 in two steps (Cody–Waite) for accuracy.
        var r = v - n * 0.693359375
        r = r - n * -2.12194440e-4
        // Horner steps as fused multiply-adds: half the dependent latency of a multiply then an add.
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = SIMD8(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
        let e = p * (r * r) + r + 1
        var y = e * unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        y.replace(with: 0, where: x .< lo)
        y.replace(with: .infinity, where: x .> hi)
        return y
    }

    /// erf(x) for 8 lanes, Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the formulation of
    /// PyTorch's AVX2 `Vectorized<float>::erf`.
    @inline(__always)
    public static func erf8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (a * 0.3275911 + 1)
        var r = t * 1.061405429 + -1.453152027
        r = r * t + 1.421413741
        r = r * t + -0.284496736
        r = r * t + 0.254829592
        let e = exp8(-(x * x))
        var y = 1 - r * t * e
        y.replace(with: -y, where: x .< 0)
        return y
    }

    /// Runs `body` on 8-lane blocks of `0..<n` split across workers, then on the scalar tail.
    @inline(__always)
    static func vectorMap(_ n: Int, vector: (Int) -> Void, scalar: (Int) -> Void) {
        let blocks = n / 8
        parallelMap(blocks) { r in for b in r { vector(b * 8) } }
        for i in (blocks * 8)..<n { scalar(i) }
    }

    /// y = x > 0 ? x : slope · x (ReLU with slope 0).
    public static func leakyRelu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int,
                                 slope: Float) {
        vectorMap(n, vector: { i in
            let v = load8(x + i)
            store8(v.replacing(with: slope == 0 ? .zero : v * slope, where: v .<= 0), y + i)
        }, scalar: { i in y[i] = x[i] > 0 ? x[i] : slope == 0 ? 0 : slope * x[i] })
    }

    /// gx (=|+=) gy · (x > 0 ? 1 : slope); `x` may be the output y instead when slope ≥ 0 (same signs).
    public static func leakyReluBackward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                                         into gx: UnsafeMutablePointer<Float>, count n: Int, slope: Float,
                                         accumulate: Bool) {
        if accumulate {
            vectorMap(n, vector: { i in
                let g = load8(gy + i)
                store8(load8(gx + i) + g.replacing(with: g * slope, where: load8(x + i) .<= 0), gx + i)
            }, scalar: { i in gx[i] += x[i] > 0 ? gy[i] : slope * gy[i] })
        } else {
            vectorMap(n, vector: { i in
                let g = load8(gy + i)
                store8(g.replacing(with: g * slope, where: load8(x + i) .<= 0), gx + i)
            }, scalar: { i in gx[i] = x[i] > 0 ? gy[i] : slope * gy[i] })
        }
    }

    /// Exact GELU, y = x · Φ(x) = x/2 · (1 + erf(x/√2)).
    public static func gelu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        vectorMap(n, vector: { i in
            let v = load8(x + i)
            store8(0.5 * v * (1 + erf8(v * 0.70710678118654752)), y + i)
        }, scalar: { i in y[i] = 0.5 * x[i] * (1 + Foundation.erf(x[i] * 0.70710678118654752)) })
    }

    /// gx (=|+=) gy · (Φ(x) + x · φ(x)).
    public static func geluBackward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                                    into gx: UnsafeMutablePointer<Float>, count n: Int, accumulate: Bool) {
        @inline(__always) func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
            0.5 * (1 + erf8(v * 0.70710678118654752)) + v * 0.3989422804014327 * exp8(-0.5 * v * v)
        }
        @inline(__always) func derivative(_ v: Float) -> Float {
            0.5 * (1 + Foundation.erf(v * 0.70710678118654752)) + v * 0.3989422804014327 * Foundation.exp(-0.5 * v * v)
        }
        if accumulate {
            vectorMap(n, vector: { i in store8(load8(gx + i) + load8(gy + i) * derivative(load8(x + i)), gx + i) },
                      scalar: { i in gx[i] += gy[i] * derivative(x[i]) })
        } else {
            vectorMap(n, vector: { i in store8(load8(gy + i) * derivative(load8(x + i)), gx + i) },
                      scalar: { i in gx[i] = gy[i] * derivative(x[i]) })
        }
    }

    /// dst (=|+=) scale · a · b (b nil: 1).
    public static func scaledProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, scale: Float,
                                     into dst: UnsafeMutablePointer<Float>, count n: Int, accumulate: Bool) {
        switch (b, accumulate) {
        case (let b?, true): vectorMap(n, vector: { i in store8(load8(dst + i) + scale * load8(a + i) * load8(b + i), dst + i) },
                                       scalar: { i in dst[i] += scale * a[i] * b[i] })
        case (let b?, false): vectorMap(n, vector: { i in store8(scale * load8(a + i) * load8(b + i), dst + i) },
                                        scalar: { i in dst[i] = scale * a[i] * b[i] })
        case (nil, true): vectorMap(n, vector: { i in store8(load8(dst + i) + scale * load8(a + i), dst + i) },
                                    scalar: { i in dst[i] += scale * a[i] })
        case (nil, false): vectorMap(n, vector: { i in store8(scale * load8(a + i), dst + i) },
                                     scalar: { i in dst[i] = scale * a[i] })
        }
    }
}

extension Kernels {
    /// One fused Adam / AdamW update of a parameter in place (PyTorch's formulas):
    ///   g' = g + wd·p (Adam) or p ← p·(1 − lr·wd) (AdamW);  m ← β1·m + (1 − β1)·g';  v ← β2·v + (1 − β2)·g'²;
    ///   v̂ = max(vmax, v) with AMSGrad (stored in vmax), else v;  p ← p − stepSize · m / (√v̂ / √c2 + ε).
    public static func adamUpdate(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                                  m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                                  vMax: UnsafeMutablePointer<Float>?, count n: Int,
                                  stepSize: Float, beta1 b1: Float, beta2 b2: Float, epsilon eps: Float,
                                  rootCorrection2: Float, learningRate lr: Float, weightDecay wd: Float,
                                  decoupled: Bool) {
        let decay: Float = decoupled ? 1 - lr * wd : 1
        let l2: Float = decoupled ? 0 : wd
        let inverseRoot = 1 / rootCorrection2
        @inline(__always) func vector(_ i: Int) {
            var pv = load8(p + i)
            let gv = load8(g + i) + l2 * pv
            pv = pv * decay
            let mv = b1 * load8(m + i) + (1 - b1) * gv
            let vv = b2 * load8(v + i) + (1 - b2) * gv * gv
            store8(mv, m + i)
            store8(vv, v + i)
            var second = vv
            if let vMax {
                let previous = load8(vMax + i)
                second = previous.replacing(with: vv, where: vv .> previous)
                store8(second, vMax + i)
            }
            store8(pv - stepSize * mv / (second.squareRoot() * inverseRoot + eps), p + i)
        }
        @inline(__always) func scalar(_ i: Int) {
            let gi = g[i] + l2 * p[i]
            p[i] *= decay
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            var second = v[i]
            if let vMax { vMax[i] = max(vMax[i], v[i]); second = vMax[i] }
            p[i] -= stepSize * m[i] / (second.squareRoot() * inverseRoot + eps)
        }
        vectorMap(n, vector: vector, scalar: scalar)
    }
}
