import Foundation

/// softmax(q·kᵀ·scale + bias)·v over the last two axes, for q [B…, Tq, d], k [B…, Tk, d],
/// v [B…, Tk, dv]. `bias` (relative positions, shifted-window masks) broadcasts against the
/// [B…, Tq, Tk] scores.
///
/// Fused when the bias's leading axes are trailing axes of the batch (e.g. [heads, T, T] or
/// [windows, heads, T, T] for [batch, windows, heads, T, d]): the scores then never become tensors of
/// their own, and only the attention weights are kept for the backward, one score-sized buffer instead
/// of three. Other bias shapes use the composition of matmul, add and softmax.
public func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, scale: Float,
                                      bias: Tensor? = nil) -> Tensor {
    let batchShape = Array(q.shape.dropLast(2))
    let (tq, d, tk, dv) = (q.shape[q.rank - 2], q.shape[q.rank - 1], k.shape[k.rank - 2], v.shape[v.rank - 1])
    let fusable = k.shape == batchShape + [tk, d] && v.shape == batchShape + [tk, dv]
        && bias.map { $0.rank >= 2 && Array($0.shape.suffix(2)) == [tq, tk] && $0.rank - 2 <= batchShape.count
            && Array(batchShape.suffix($0.rank - 2)) == Array($0.shape.dropLast(2)) } ?? true
    guard fusable else {
        var scores = matmul(q, k, transposeB: true) * scale
        if let bias { scores = scores + bias }
        return matmul(softmax(scores, axis: -1), v)
    }
    let batch = batchShape.reduce(1, *)
    let slots = bias.map { $0.count / (tq * tk) } ?? 1          // batch entry b reads bias slot b % slots
    let scoreSize = tq * tk
    let keep = GradMode.isEnabled && [q, k, v, bias].contains { $0?.requiresGrad == true }
    // The attention weights: kept whole for the backward, else one scratch matrix per worker.
    let weights = keep ? Storage(count: batch * scoreSize) : nil
    let y = Tensor(uninitialized: batchShape + [tq, dv])
    let (pq, pk, pv, py) = (q.pointer, k.pointer, v.pointer, y.pointer)
    let pb = bias?.pointer
    Parallel.forEach(batch) { range in
        let scratch = Storage(count: weights == nil ? scoreSize : 0)
        withExtendedLifetime(scratch) {
            for b in range {
                let p = weights.map { $0.pointer + b * scoreSize } ?? scratch.pointer
                Kernels.gemm(transB: true, m: tq, n: tk, k: d, alpha: scale, a: pq + b * tq * d, lda: d,
                             b: pk + b * tk * d, ldb: d, c: p, ldc: tk, parallel: false)
                if let pb { addSerial(pb + (b % slots) * scoreSize, into: p, count: scoreSize) }
                for r in 0..<tq { softmaxRow(p + r * tk, count: tk) }
                Kernels.gemm(m: tq, n: dv, k: tk, a: p, lda: tk, b: pv + b * tk * dv, ldb: dv,
                             c: py + b * tq * dv, ldc: dv, parallel: false)
            }
        }
    }
    guard let weights else { return y }
    return y.recording([q, k, v] + (bias.map { [$0] } ?? [])) { gy in
        let pg = gy.pointer, pw = weights.pointer
        let gq = q.requiresGrad ? q.gradAccumulator().pointer : nil
        let gk = k.requiresGrad ? k.gradAccumulator().pointer : nil
        let gv = v.requiresGrad ? v.gradAccumulator().pointer : nil
        let biasGrad = bias.flatMap { $0.requiresGrad ? $0.gradAccumulator().pointer : nil }
        // The gradients of entry b; its dScores (in ds, one score-sized scratch) go into gb.
        func entry(_ b: Int, _ ds: UnsafeMutablePointer<Float>, _ gb: UnsafeMutablePointer<Float>?) {
            let p = pw + b * scoreSize, g = pg + b * tq * dv
            if let gv {  // dV += Pᵀ·dY
                Kernels.gemm(transA: true, m: tk, n: dv, k: tq, a: p, lda: tk, b: g, ldb: dv,
                             beta: 1, c: gv + b * tk * dv, ldc: dv, parallel: false)
            }
            guard gq != nil || gk != nil || gb != nil else { return }
            // dP = dY·Vᵀ, then dS = P ⊙ (dP − Σ dP⊙P) row by row.
            Kernels.gemm(transB: true, m: tq, n: tk, k: dv, a: g, lda: dv, b: pv + b * tk * dv, ldb: dv,
                         c: ds, ldc: tk, parallel: false)
            for r in 0..<tq {
                let row = ds + r * tk, pr = p + r * tk
                let dot = Kernels.dot(row, pr, count: tk)
                for i in 0..<tk { row[i] = pr[i] * (row[i] - dot) }
            }
            if let gb { addSerial(ds, into: gb + (b % slots) * scoreSize, count: scoreSize) }
            if let gq {  // dQ += scale·dS·K
                Kernels.gemm(m: tq, n: d, k: tk, alpha: scale, a: ds, lda: tk, b: pk + b * tk * d, ldb: d,
                             beta: 1, c: gq + b * tq * d, ldc: d, parallel: false)
            }
            if let gk {  // dK += scale·dSᵀ·Q
                Kernels.gemm(transA: true, m: tk, n: d, k: tq, alpha: scale, a: ds, lda: tk, b: pq + b * tq * d,
                             ldb: d, beta: 1, c: gk + b * tk * d, ldc: d, parallel: false)
            }
        }
        // The bias gradient sums the entries sharing a slot in an order fixed by the shapes alone (never
        // by the worker count): with 4 slots or more, slot-major, each slot's entries in order by one
        // worker; with fewer, parts of the batch into their own copies, added in order (`Parallel.reduce`).
        let perSlot = batch / slots
        if let biasGrad, slots < 4 {
            Parallel.reduce(batch, maxParts: min(Parallel.fixedParts, max(1, perSlot / 2)), size: slots * scoreSize,
                            into: biasGrad) { range, gb in
                let scratch = Storage(count: scoreSize)
                withExtendedLifetime(scratch) { for b in range { entry(b, scratch.pointer, gb) } }
            }
        } else {
            Parallel.forEach(biasGrad == nil ? batch : slots) { range in
                let scratch = Storage(count: scoreSize)
                withExtendedLifetime(scratch) {
                    for index in range {
                        if biasGrad == nil { entry(index, scratch.pointer, nil); continue }
                        for j in 0..<perSlot { entry(index + j * slots, scratch.pointer, biasGrad) }
                    }
                }
            }
        }
    }
}

/// dst += src on the calling worker (inside a parallel loop: no nested split).
@inline(__always)
private func addSerial(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}

/// In-place softmax of one row.
@inline(__always)
private func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, row[i]) }
    var total: Float = 0
    for i in 0..<n { row[i] = Foundation.exp(row[i] - m); total += row[i] }
    let s = 1 / total
    for i in 0..<n { row[i] *= s }
}
