import WideKernels

/// Softmax of one contiguous row, 8 lanes at a time (the exponentials 16 at a time on AVX-512, with
/// the same bits), on the calling worker. The forward returns the
/// row's maximum and the inverse sum of its exponentials so that a backward can recompute the
/// weights instead of keeping them (`softmaxWeights` gives them back bit for bit: every element,
/// the tail included, goes through the same `exp8` and the same multiplication).
extension Kernels {
    /// In place: row ← softmax(row).
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) -> (maximum: Float, inverse: Float) {
        var maxima = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            // A compare and a blend: the standard library's generic `pointwiseMax` goes lane by lane.
            let v = load8(row + i)
            maxima.replace(with: v, where: v .> maxima)
            i += 8
        }
        var maximum = maxima.max()
        while i < n { maximum = max(maximum, row[i]); i += 1 }
        var totals = SIMD8<Float>()
        i = 0
        if usesAVX512 {  // the same exponentials and the same chunk order, 16 lanes at a time
            i = n / 16 * 16
            totals = WideKernels.exponentials16(row, count: i, maximum: maximum)
        }
        while i + 8 <= n {
            let e = exp8(load8(row + i) - maximum)
            store8(e, row + i)
            totals += e
            i += 8
        }
        var total = totals.sum()
        if i < n {
            let e = exp8(loadTail(row + i, count: n - i, padding: maximum) - maximum)
            for lane in 0..<(n - i) { row[i + lane] = e[lane]; total += e[lane] }
        }
        let inverse = 1 / total
        i = 0
        while i + 8 <= n { store8(load8(row + i) * inverse, row + i); i += 8 }
        while i < n { row[i] *= inverse; i += 1 }
        return (maximum, inverse)
    }

    /// row ← exp(row − maximum)·inverse: the weights `softmaxRow` made from the same scores.
    @inline(__always)
    public static func softmaxWeights(_ row: UnsafeMutablePointer<Float>, count n: Int, maximum: Float, inverse: Float) {
        var i = 0
        if usesAVX512 {
            i = n / 16 * 16
            WideKernels.scaledExponentials16(row, count: i, maximum: maximum, inverse: inverse)
        }
        while i + 8 <= n { store8(exp8(load8(row + i) - maximum) * inverse, row + i); i += 8 }
        guard i < n else { return }
        let e = exp8(loadTail(row + i, count: n - i, padding: maximum) - maximum)
        for lane in 0..<(n - i) { row[i + lane] = e[lane] * inverse }
    }

    /// gradient ← weights ⊙ (gradient − Σ gradient⊙weights): from the gradient of softmax's output
    /// to that of its input.
    @inline(__always)
    public static func softmaxRowBackward(_ gradient: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
                                          count n: Int) {
        let dot = Kernels.dot(gradient, weights, count: n)
        var i = 0
        while i + 8 <= n { store8(load8(weights + i) * (load8(gradient + i) - dot), gradient + i); i += 8 }
        while i < n { gradient[i] = weights[i] * (gradient[i] - dot); i += 1 }
    }

    /// The last `count` (< 8) elements in the low lanes, `padding` in the others.
    @inline(__always)
    private static func loadTail(_ p: UnsafePointer<Float>, count: Int, padding: Float) -> SIMD8<Float> {
        var v = SIMD8<Float>(repeating: padding)
        for lane in 0..<count { v[lane] = p[lane] }
        return v
    }
}
