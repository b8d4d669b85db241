/// Matrix products on the last two axes; leading axes are batch axes (b may also be a plain matrix
/// shared by every batch entry).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    Profiler.measure("matmul", .forward) {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices: \(a.shape) · \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(k == kb, "matmul inner sizes differ: \(a.shape) · \(b.shape)")
        let batch = a.shape.dropLast(2).reduce(1, *)
        let bBatch = b.shape.dropLast(2).reduce(1, *)
        precondition(bBatch == batch || bBatch == 1, "matmul batch sizes differ: \(a.shape) · \(b.shape)")
        let y = Tensor(uninitialized: Array(a.shape.dropLast(2)) + [m, n])
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        let sa = m * k, sb = bBatch == 1 ? 0 : k * n, sy = m * n
        batchedGemm(batch, transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                    a: a.pointer, lda: lda, strideA: sa, b: b.pointer, ldb: ldb, strideB: sb,
                    beta: 0, c: y.pointer, ldc: n, strideC: sy)
        // dA reads B and dB reads A: keep each operand only for the other's gradient.
        return y.recording("matmul", [a, b]) { [aSlot = a.slot, bSlot = b.slot,
                                                a = b.requiresGrad ? a : nil, b = a.requiresGrad ? b : nil] gy in
            if let b {
                // dA = dY · op(B)ᵀ, laid out as A (transposed when A was).
                let (target, overwrite) = aSlot.gradientTarget()
                let ga = target.pointer, beta: Float = overwrite ? 0 : 1
                if transposeA {
                    batchedGemm(batch, transA: transposeB, transB: true, m: k, n: m, k: n, a: b.pointer, lda: ldb,
                                strideA: sb, b: gy.pointer, ldb: n, strideB: sy, beta: beta, c: ga, ldc: lda, strideC: sa)
                } else {
                    batchedGemm(batch, transA: false, transB: !transposeB, m: m, n: k, k: n, a: gy.pointer, lda: n,
                                strideA: sy, b: b.pointer, ldb: ldb, strideB: sb, beta: beta, c: ga, ldc: lda, strideC: sa)
                }
            }
            if let a {
                // dB = op(A)ᵀ · dY, summed over the batch when B is shared.
                let (target, overwrite) = bSlot.gradientTarget()
                let gb = target.pointer
                if bBatch != 1 {
                    // Independent products, one per batch entry, spread over the workers.
                    if transposeB {
                        batchedGemm(batch, transA: true, transB: transposeA, m: n, n: k, k: m, a: gy.pointer, lda: n,
                                    strideA: sy, b: a.pointer, ldb: lda, strideB: sa, beta: overwrite ? 0 : 1, c: gb,
                                    ldc: ldb, strideC: k * n)
                    } else {
                        batchedGemm(batch, transA: !transposeA, transB: false, m: k, n: n, k: m, a: a.pointer, lda: lda,
                                    strideA: sa, b: gy.pointer, ldb: n, strideB: sy, beta: overwrite ? 0 : 1, c: gb,
                                    ldc: ldb, strideC: k * n)
                    }
                } else {
                    for i in 0..<batch {
                        let beta: Float = overwrite && i == 0 ? 0 : 1
                        if transposeB {
                            Kernels.gemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: gy.pointer + i * sy, lda: n,
                                         b: a.pointer + i * sa, ldb: lda, beta: beta, c: gb, ldc: ldb)
                        } else {
                            Kernels.gemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: a.pointer + i * sa, lda: lda,
                                         b: gy.pointer + i * sy, ldb: n, beta: beta, c: gb, ldc: ldb)
                        }
                    }
                }
            }
        }
    }
}

/// Many small independent products run one per worker; one large product is split inside `gemm`.
private func batchedGemm(_ batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int, strideA: Int,
                         b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
    if batch == 1 {
        Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc)
        return
    }
    Parallel.forEach(batch) { range in
        for i in range {
            Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
                         b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * strideC, ldc: ldc, parallel: false)
        }
    }
}

/// `y = x Wᵀ + b` over the last axis of x, with W in PyTorch's (out, in) layout.
/// The backward computes dW only when W is trainable: that skip is where PEFT saves its time.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    Profiler.measure("linear", .forward) {
        let y = linearValue(x, weight: weight, bias: bias)
        let backward = LinearBackward(x: x, weight: weight, bias: bias)
        return y.recording("linear", [x, weight] + (bias.map { [$0] } ?? [])) { gy in backward(gy) }
    }
}

/// `x Wᵀ + b`, computed without recording anything.
func linearValue(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
    precondition(x.shape.last == inFeatures, "linear: input \(x.shape) for weight \(weight.shape)")
    let rows = x.count / inFeatures
    let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outFeatures])
    if let bias {
        for r in 0..<rows { (y.pointer + r * outFeatures).update(from: bias.pointer, count: outFeatures) }
    }
    Kernels.gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x.pointer, lda: inFeatures,
                 b: weight.pointer, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: y.pointer, ldc: outFeatures)
    return y
}

/// A linear product's backward: dx = dY·W, dW = dYᵀ·x, db = Σ dY, each only where it is needed.
/// dx reads the weight and dW reads x: it keeps each only for that (a frozen layer keeps no input).
struct LinearBackward {
    let xSlot: GradSlot, weightSlot: GradSlot, biasSlot: GradSlot?
    let x: Tensor?, weight: Tensor?
    let rows: Int, inFeatures: Int, outFeatures: Int

    /// `xNeedsGradient` is x's own flag for a graph tensor; a fused op passes it for an inner product
    /// whose input it made itself.
    init(x: Tensor, weight: Tensor, bias: Tensor?, xNeedsGradient: Bool? = nil) {
        xSlot = x.slot
        weightSlot = weight.slot
        biasSlot = bias?.slot
        self.x = weight.requiresGrad ? x : nil
        self.weight = (xNeedsGradient ?? x.requiresGrad) ? weight : nil
        inFeatures = weight.shape[1]
        outFeatures = weight.shape[0]
        rows = x.count / inFeatures
    }

    func callAsFunction(_ gy: Tensor) {
        if let weight {
            let (target, overwrite) = xSlot.gradientTarget()
            Kernels.gemm(m: rows, n: inFeatures, k: outFeatures, a: gy.pointer, lda: outFeatures,
                         b: weight.pointer, ldb: inFeatures, beta: overwrite ? 0 : 1, c: target.pointer, ldc: inFeatures)
        }
        if let x {
            KernelCounters.weightGradients.add(1, ordering: .relaxed)
            let (target, overwrite) = weightSlot.gradientTarget()
            Kernels.gemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: gy.pointer, lda: outFeatures,
                         b: x.pointer, ldb: inFeatures, beta: overwrite ? 0 : 1, c: target.pointer, ldc: inFeatures)
        }
        if let biasSlot, biasSlot.requiresGrad {
            Kernels.accumulateReduced(gy.pointer, shape: [rows, outFeatures], into: biasSlot.gradAccumulator().pointer,
                                      dstShape: [outFeatures])
        }
    }
}
