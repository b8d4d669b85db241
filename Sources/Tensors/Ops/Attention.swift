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
    Profiler.measure("attention", .forward) { attention(q, k, v, scale: scale, bias: bias, mask: mask) }
}

private func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float, bias: Tensor?, mask: Tensor?) -> Tensor {
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
    let keep = GradMode.isRecording && [q, k, v, bias].contains { $0?.requiresGrad == true }
    let (pq, pk, pv) = (q.pointer, k.pointer, v.pointer)
    let (pb, pm) = (bias?.pointer, mask?.pointer)
    // Heads of multiples of 8 channels go row by row (see AttentionRows.swift); others through BLAS
    // on whole score matrices. Forward and backward take the same path, so the backward's recomputed
    // weights equal the forward's bit for bit.
    let rowwise = d % 8 == 0 && dv % 8 == 0
    let ld = (tk + 7) / 8 * 8, block = 8
    let scratchSize = rowwise ? (d + dv + 2 * block) * ld : 2 * scoreSize
    /// Adds the bias and the mask to rows `rows` of entry b's scores, stored from `p`.
    func addTerms(_ b: Int, rows: Range<Int>, to p: UnsafeMutablePointer<Float>) {
        let offset = rows.lowerBound * tk, count = rows.count * tk
        if let pb, let biasSlots { addSerial(pb + biasSlots.slot[b] * scoreSize + offset, into: p, count: count) }
        if let pm, let maskSlots { addSerial(pm + maskSlots.slot[b] * scoreSize + offset, into: p, count: count) }
    }
    /// Entry b's scores scale·q·kᵀ + bias + mask into `p` (tq × tk).
    func scores(_ b: Int, into p: UnsafeMutablePointer<Float>) {
        Kernels.gemm(transB: true, m: tq, n: tk, k: d, alpha: scale, a: pq + b * tq * d, lda: d,
                     b: pk + b * tk * d, ldb: d, c: p, ldc: tk, parallel: false)
        addTerms(b, rows: 0..<tq, to: p)
    }
    /// Rows `rows` of entry b's scores into `out` (ld floats apart), from entry b's kᵀ.
    func scoreRows(_ b: Int, _ rows: Range<Int>, keysT: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        Kernels.rowsTimesTransposed(pq + (b * tq + rows.lowerBound) * d, lda: d, rows: rows.count, count: d, keysT, ld: ld,
                                    alpha: scale, into: out, ldo: ld)
        for (i, r) in rows.enumerated() { addTerms(b, rows: r..<(r + 1), to: out + i * ld) }
    }
    /// Runs `body` with a worker's scratch.
    func withScratch(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        let scratch = Storage(count: scratchSize)
        withExtendedLifetime(scratch) { body(scratch.pointer) }
    }
    // Per row: the maximum and the inverse sum of its exponentials, for the backward.
    let statistics = keep ? Storage(count: batch * tq * 2) : nil
    let y = Tensor(uninitialized: batchShape + [tq, dv])
    let py = y.pointer
    func keepStatistics(_ b: Int, _ r: Int, _ row: (maximum: Float, inverse: Float)) {
        guard let statistics else { return }
        statistics.pointer[2 * (b * tq + r)] = row.maximum
        statistics.pointer[2 * (b * tq + r) + 1] = row.inverse
    }
    // The row kernels do not go through `Kernels.gemm`, which counts the matrix path's products.
    let product = 2 * batch * tq * tk  // FLOP per channel of one tq × tk product
    if rowwise { KernelCounters.flops.add(product * (d + dv), ordering: .relaxed) }
    Parallel.forEach(batch) { range in
        withScratch { s in
            for b in range {
                if rowwise {
                    Kernels.transposePadded(pk + b * tk * d, rows: tk, cols: d, into: s, ld: ld)
                    let p = s + d * ld
                    for start in stride(from: 0, to: tq, by: block) {
                        let rows = start..<min(tq, start + block)
                        scoreRows(b, rows, keysT: s, into: p)
                        for (i, r) in rows.enumerated() { keepStatistics(b, r, Kernels.softmaxRow(p + i * ld, count: tk)) }
                        Kernels.rowsTimesMatrix(p, ldw: ld, rows: rows.count, count: tk, pv + b * tk * dv, ld: dv, width: dv,
                                                alpha: 1, accumulate: false, into: py + (b * tq + start) * dv, ldo: dv)
                    }
                } else {
                    scores(b, into: s)
                    for r in 0..<tq { keepStatistics(b, r, Kernels.softmaxRow(s + r * tk, count: tk)) }
                    Kernels.gemm(m: tq, n: dv, k: tk, a: s, lda: tk, b: pv + b * tk * dv, ldb: dv,
                                 c: py + b * tq * dv, ldc: dv, parallel: false)
                }
            }
        }
    }
    guard let statistics else { return y }
    // The backward recomputes the scores: it keeps q, k, v, the bias and the mask, which the helpers
    // above read through pointers.
    return y.recording("attention", [q, k, v] + (bias.map { [$0] } ?? [])) { [q, k, v, bias, mask] gy in
        defer { withExtendedLifetime((q, k, v, bias, mask)) {} }
        let pg = gy.pointer, ps = statistics.pointer
        let gq = q.requiresGrad ? q.slot.gradAccumulator().pointer : nil
        let gk = k.requiresGrad ? k.slot.gradAccumulator().pointer : nil
        let gv = v.requiresGrad ? v.slot.gradAccumulator().pointer : nil
        let biasGrad = bias.flatMap { $0.requiresGrad ? $0.slot.gradAccumulator().pointer : nil }
        let needsScores = gq != nil || gk != nil || biasGrad != nil
        /// The gradients of entry b, a block of rows at a time; its dScores go into gb.
        func rowwiseEntry(_ b: Int, _ s: UnsafeMutablePointer<Float>, _ gb: UnsafeMutablePointer<Float>?) {
            let keysT = s, valuesT = s + d * ld, p = s + (d + dv) * ld, ds = p + block * ld
            Kernels.transposePadded(pk + b * tk * d, rows: tk, cols: d, into: keysT, ld: ld)
            if needsScores { Kernels.transposePadded(pv + b * tk * dv, rows: tk, cols: dv, into: valuesT, ld: ld) }
            for start in stride(from: 0, to: tq, by: block) {
                let rows = start..<min(tq, start + block), n = rows.count
                scoreRows(b, rows, keysT: keysT, into: p)
                for (i, r) in rows.enumerated() {
                    Kernels.softmaxWeights(p + i * ld, count: tk, maximum: ps[2 * (b * tq + r)], inverse: ps[2 * (b * tq + r) + 1])
                }
                let g = pg + (b * tq + start) * dv
                if let gv {  // dV += Pᵀ·dY
                    Kernels.addOuterProducts(p, ldw: ld, rows: n, count: tk, g, ldx: dv, width: dv, alpha: 1,
                                             into: gv + b * tk * dv, ld: dv)
                }
                guard needsScores else { continue }
                // dP = dY·Vᵀ, then dS = P ⊙ (dP − Σ dP⊙P) row by row.
                Kernels.rowsTimesTransposed(g, lda: dv, rows: n, count: dv, valuesT, ld: ld, alpha: 1, into: ds, ldo: ld)
                for (i, r) in rows.enumerated() {
                    Kernels.softmaxRowBackward(ds + i * ld, weights: p + i * ld, count: tk)
                    if let gb, let biasSlots { addSerial(ds + i * ld, into: gb + biasSlots.slot[b] * scoreSize + r * tk, count: tk) }
                }
                if let gq {  // dQ += scale·dS·K
                    Kernels.rowsTimesMatrix(ds, ldw: ld, rows: n, count: tk, pk + b * tk * d, ld: d, width: d, alpha: scale,
                                            accumulate: true, into: gq + (b * tq + start) * d, ldo: d)
                }
                if let gk {  // dK += scale·dSᵀ·Q
                    Kernels.addOuterProducts(ds, ldw: ld, rows: n, count: tk, pq + (b * tq + start) * d, ldx: d, width: d,
                                             alpha: scale, into: gk + b * tk * d, ld: d)
                }
            }
        }
        /// The gradients of entry b through whole score matrices; its dScores go into gb.
        func matrixEntry(_ b: Int, _ s: UnsafeMutablePointer<Float>, _ gb: UnsafeMutablePointer<Float>?) {
            let p = s, ds = s + scoreSize
            scores(b, into: p)
            for r in 0..<tq {
                Kernels.softmaxWeights(p + r * tk, count: tk, maximum: ps[2 * (b * tq + r)], inverse: ps[2 * (b * tq + r) + 1])
            }
            let g = pg + b * tq * dv
            if let gv {  // dV += Pᵀ·dY
                Kernels.gemm(transA: true, m: tk, n: dv, k: tq, a: p, lda: tk, b: g, ldb: dv,
                             beta: 1, c: gv + b * tk * dv, ldc: dv, parallel: false)
            }
            guard needsScores else { return }
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
        let entry = rowwise ? rowwiseEntry : matrixEntry
        if rowwise {  // scores again, dV, and with dScores dP, dQ, dK
            let channels = d + (gv != nil ? dv : 0) + (needsScores ? dv + (gq != nil ? d : 0) + (gk != nil ? d : 0) : 0)
            KernelCounters.flops.add(product * channels, ordering: .relaxed)
        }
        // The bias gradient sums the entries sharing a slot in an order fixed by the shapes alone (never
        // by the worker count): with 4 slots or more, slot-major, each slot's entries in order by one
        // worker; with fewer, parts of the batch into their own copies, added in order (`Parallel.reduce`):
        // up to 8, then one per 128 entries (each part's copy is 1.4 MB in SwinUNETR's first stage).
        if let biasGrad, let biasSlots, biasSlots.count < 4 {
            Parallel.reduce(batch, span: 128, smallParts: min(Parallel.smallWorkParts, max(1, batch / biasSlots.count / 2)),
                            size: biasSlots.count * scoreSize, into: biasGrad) { range, gb in
                withScratch { s in for b in range { entry(b, s, gb) } }
            }
        } else if let biasGrad, let biasSlots {
            let entries = biasSlots.entries
            Parallel.forEach(biasSlots.count) { range in
                withScratch { s in for slot in range { for b in entries[slot] { entry(b, s, biasGrad) } } }
            }
        } else {
            Parallel.forEach(batch) { range in withScratch { s in for b in range { entry(b, s, nil) } } }
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
