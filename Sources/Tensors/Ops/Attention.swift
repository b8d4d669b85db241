/// softmax(q·kᵀ·scale + bias + mask)·v over the last two axes, for q [B…, Tq, d], k [B…, Tk, d],
/// v [B…, Tk, dv]. `bias` (relative positions) and `mask` (shifted-window masks; constant, never
/// given a gradient) broadcast against the [B…, Tq, Tk] scores.
///
/// Fused when each additive term is [S…, Tq, Tk] with every S axis equal to the batch axis it lines
/// up with (from the right) or 1 — e.g. [heads, T, T] and [windows, 1, T, T] for
/// [batch, windows, heads, T, d]. The scores and attention weights then never become tensors: the
/// backward recomputes each entry's weights from q, k and two numbers per row (the row's maximum and
/// inverse sum), bit for bit as the forward made them. That keeps the training memory of window
/// attention linear in the tokens (the weights of SwinUNETR's first stage alone are 176 MB per block
/// at 64³). Other shapes use the composition of matmul, add and softmax.
public func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, scale: Float,
                                      bias: Tensor? = nil, mask: Tensor? = nil) -> Tensor {
    let batchShape = Array(q.shape.dropLast(2))
    let (tq, d, tk, dv) = (q.shape[q.rank - 2], q.shape[q.rank - 1], k.shape[k.rank - 2], v.shape[v.rank - 1])
    let biasSlots = bias.flatMap { BroadcastSlots($0.shape, batch: batchShape, matrix: [tq, tk]) }
    let maskSlots = mask.flatMap { BroadcastSlots($0.shape, batch: batchShape, matrix: [tq, tk]) }
    let fusable = k.shape == batchShape + [tk, d] && v.shape == batchShape + [tk, dv]
        && (bias == nil || biasSlots != nil) && (mask == nil || maskSlots != nil)
    guard fusable else {
        var scores = matmul(q, k, transposeB: true) * scale
        if let bias { scores = scores + bias }
        if let mask { scores = scores + mask.detached() }
        return matmul(softmax(scores, axis: -1), v)
    }
    let batch = batchShape.reduce(1, *)
    let scoreSize = tq * tk
    let keep = GradMode.isEnabled && [q, k, v, bias].contains { $0?.requiresGrad == true }
    let (pq, pk, pv) = (q.pointer, k.pointer, v.pointer)
    let (pb, pm) = (bias?.pointer, mask?.pointer)
    /// Entry b's scores scale·q·kᵀ + bias + mask into `p` (tq × tk).
    func scores(_ b: Int, into p: UnsafeMutablePointer<Float>) {
        Kernels.gemm(transB: true, m: tq, n: tk, k: d, alpha: scale, a: pq + b * tq * d, lda: d,
                     b: pk + b * tk * d, ldb: d, c: p, ldc: tk, parallel: false)
        if let pb, let biasSlots { addSerial(pb + biasSlots.slot[b] * scoreSize, into: p, count: scoreSize) }
        if let pm, let maskSlots { addSerial(pm + maskSlots.slot[b] * scoreSize, into: p, count: scoreSize) }
    }
    // Per row: the maximum and the inverse sum of its exponentials, for the backward.
    let statistics = keep ? Storage(count: batch * tq * 2) : nil
    let y = Tensor(uninitialized: batchShape + [tq, dv])
    let py = y.pointer
    Parallel.forEach(batch) { range in
        let scratch = Storage(count: scoreSize)
        withExtendedLifetime(scratch) {
            let p = scratch.pointer
            for b in range {
                scores(b, into: p)
                for r in 0..<tq {
                    let (maximum, inverse) = Kernels.softmaxRow(p + r * tk, count: tk)
                    if let statistics {
                        statistics.pointer[2 * (b * tq + r)] = maximum
                        statistics.pointer[2 * (b * tq + r) + 1] = inverse
                    }
                }
                Kernels.gemm(m: tq, n: dv, k: tk, a: p, lda: tk, b: pv + b * tk * dv, ldb: dv,
                             c: py + b * tq * dv, ldc: dv, parallel: false)
            }
        }
    }
    guard let statistics else { return y }
    return y.recording([q, k, v] + (bias.map { [$0] } ?? [])) { gy in
        defer { withExtendedLifetime(mask) {} }  // `scores` reads it through a pointer
        let pg = gy.pointer, ps = statistics.pointer
        let gq = q.requiresGrad ? q.gradAccumulator().pointer : nil
        let gk = k.requiresGrad ? k.gradAccumulator().pointer : nil
        let gv = v.requiresGrad ? v.gradAccumulator().pointer : nil
        let biasGrad = bias.flatMap { $0.requiresGrad ? $0.gradAccumulator().pointer : nil }
        /// The gradients of entry b, with two score-sized scratch buffers; its dScores go into gb.
        func entry(_ b: Int, _ p: UnsafeMutablePointer<Float>, _ ds: UnsafeMutablePointer<Float>,
                   _ gb: UnsafeMutablePointer<Float>?) {
            scores(b, into: p)
            for r in 0..<tq {
                Kernels.softmaxWeights(p + r * tk, count: tk, maximum: ps[2 * (b * tq + r)], inverse: ps[2 * (b * tq + r) + 1])
            }
            let g = pg + b * tq * dv
            if let gv {  // dV += Pᵀ·dY
                Kernels.gemm(transA: true, m: tk, n: dv, k: tq, a: p, lda: tk, b: g, ldb: dv,
                             beta: 1, c: gv + b * tk * dv, ldc: dv, parallel: false)
            }
            guard gq != nil || gk != nil || gb != nil else { return }
            // dP = dY·Vᵀ, then dS = P ⊙ (dP − Σ dP⊙P) row by row.
            Kernels.gemm(transB: true, m: tq, n: tk, k: dv, a: g, lda: dv, b: pv + b * tk * dv, ldb: dv,
                         c: ds, ldc: tk, parallel: false)
            for r in 0..<tq { Kernels.softmaxRowBackward(ds + r * tk, weights: p + r * tk, count: tk) }
            if let gb, let biasSlots { addSerial(ds, into: gb + biasSlots.slot[b] * scoreSize, count: scoreSize) }
            if let gq {  // dQ += scale·dS·K
                Kernels.gemm(m: tq, n: d, k: tk, alpha: scale, a: ds, lda: tk, b: pk + b * tk * d, ldb: d,
                             beta: 1, c: gq + b * tq * d, ldc: d, parallel: false)
            }
            if let gk {  // dK += scale·dSᵀ·Q
                Kernels.gemm(transA: true, m: tk, n: d, k: tq, alpha: scale, a: ds, lda: tk, b: pq + b * tq * d,
                             ldb: d, beta: 1, c: gk + b * tk * d, ldc: d, parallel: false)
            }
        }
        /// Runs `body` with a worker's two scratch buffers.
        func withScratch(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
            let scratch = Storage(count: 2 * scoreSize)
            withExtendedLifetime(scratch) { body(scratch.pointer, scratch.pointer + scoreSize) }
        }
        // The bias gradient sums the entries sharing a slot in an order fixed by the shapes alone (never
        // by the worker count): with 4 slots or more, slot-major, each slot's entries in order by one
        // worker; with fewer, parts of the batch into their own copies, added in order (`Parallel.reduce`).
        if let biasGrad, let biasSlots, biasSlots.count < 4 {
            Parallel.reduce(batch, maxParts: min(Parallel.fixedParts, max(1, batch / biasSlots.count / 2)),
                            size: biasSlots.count * scoreSize, into: biasGrad) { range, gb in
                withScratch { p, ds in for b in range { entry(b, p, ds, gb) } }
            }
        } else if let biasGrad, let biasSlots {
            let entries = biasSlots.entries
            Parallel.forEach(biasSlots.count) { range in
                withScratch { p, ds in for slot in range { for b in entries[slot] { entry(b, p, ds, biasGrad) } } }
            }
        } else {
            Parallel.forEach(batch) { range in withScratch { p, ds in for b in range { entry(b, p, ds, nil) } } }
        }
    }
}

/// Which matrix of an additive term [S…, Tq, Tk] each entry of a [B…] batch of score matrices reads,
/// when the term broadcasts against the batch: S lines up with the trailing batch axes, each of its
/// axes equal to the batch's or 1. Nil when the term does not broadcast that way.
private struct BroadcastSlots {
    /// The term's matrix for batch entry b.
    let slot: [Int]
    /// The term's number of matrices.
    let count: Int

    init?(_ shape: [Int], batch: [Int], matrix: [Int]) {
        let leading = Array(shape.dropLast(2))
        guard shape.count >= 2, Array(shape.suffix(2)) == matrix, leading.count <= batch.count else { return nil }
        let aligned = Array(repeating: 1, count: batch.count - leading.count) + leading
        guard zip(aligned, batch).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
        var strides = [Int](repeating: 0, count: batch.count), stride = 1
        for axis in batch.indices.reversed() where aligned[axis] != 1 {
            strides[axis] = stride
            stride *= aligned[axis]
        }
        count = leading.reduce(1, *)
        slot = (0..<batch.reduce(1, *)).map { b in
            var rest = b, index = 0
            for axis in batch.indices.reversed() {
                index += (rest % batch[axis]) * strides[axis]
                rest /= batch[axis]
            }
            return index
        }
    }

    /// The batch entries reading each matrix, in increasing order.
    var entries: [[Int]] {
        var lists = [[Int]](repeating: [], count: count)
        for (b, s) in slot.enumerated() { lists[s].append(b) }
        return lists
    }
}

/// dst += src on the calling worker (inside a parallel loop: no nested split).
@inline(__always)
private func addSerial(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}
