extension Tensor {
    /// Sum over `axes` (negative counts from the end), keeping them as size 1 when `keepingAxes`.
    public func sum(axes: [Int], keepingAxes: Bool = false) -> Tensor {
        Profiler.measure("sum", .forward) {
            let axes = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
            let y = Tensor(zeros: kept)
            Kernels.accumulateReduced(pointer, shape: shape, into: y.pointer, dstShape: kept)
            let result = keepingAxes ? y : y.reshaped(shape.indices.filter { !axes.contains($0) }.map { shape[$0] })
            return result.recording("sum", [self]) { [x = slot] gy in
                let (target, overwrite) = x.gradientTarget()
                if overwrite { target.pointer.update(repeating: 0, count: target.count) }
                Kernels.accumulateBroadcast(gy.pointer, shape: kept, into: target.pointer, dstShape: x.shape)
            }
        }
    }

    /// Sum of every element, as a scalar tensor.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    public func mean(axes: [Int], keepingAxes: Bool = false) -> Tensor {
        let n = axes.map { shape[$0 < 0 ? $0 + rank : $0] }.reduce(1, *)
        return sum(axes: axes, keepingAxes: keepingAxes) * (1 / Float(n))
    }

    public func mean() -> Tensor { sum() * (1 / Float(count)) }
}
