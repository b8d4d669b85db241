/// Normalisation over contiguous rows: layer norm (rows = tokens, affine per column) and instance
/// norm (rows = (n, c) pairs, affine per channel). Statistics are accumulated in Double.
private enum AffineAxis { case column, rowChannel(channels: Int) }

private func normalizeRows(_ kind: StaticString, _ x: Tensor, rows: Int, length: Int, eps: Float,
                           weight: Tensor?, bias: Tensor?, affine: AffineAxis) -> Tensor {
    Profiler.measure(kind, .forward) {
        let y = Tensor(uninitialized: x.shape)
        let mean = Storage(count: rows), rstd = Storage(count: rows)
        let px = x.pointer, py = y.pointer
        let pw = weight?.pointer, pb = bias?.pointer
        let pm = mean.pointer, pr = rstd.pointer
        Parallel.forEach(rows, grain: max(1, 4096 / max(length, 1))) { range in
            for r in range {
                let row = px + r * length, out = py + r * length
                let mu = Float(Kernels.sumDouble(row, count: length) / Double(length))
                let variance = Kernels.sumSquaredDeviation(row, count: length, mean: mu) / Double(length)
                let s = Float(1 / (variance + Double(eps)).squareRoot())
                pm[r] = mu; pr[r] = s
                switch affine {
                case .column:
                    if let pw, let pb {
                        for i in 0..<length { out[i] = (row[i] - mu) * s * pw[i] + pb[i] }
                    } else {
                        for i in 0..<length { out[i] = (row[i] - mu) * s }
                    }
                case .rowChannel(let channels):
                    let c = r % channels
                    let a = s * (pw?[c] ?? 1), b = (pb?[c] ?? 0) - mu * a
                    for i in 0..<length { out[i] = row[i] * a + b }
                }
            }
        }
        let inputs = [x] + [weight, bias].compactMap { $0 }
        // Every gradient reads x (and the data gradient, the weight); the statistics live as long as
        // this closure, which therefore holds their storage.
        return y.recording(kind, inputs) { [xSlot = x.slot, x, weight, bias = bias?.slot] gy in
            let px = x.pointer, pw = weight?.pointer
            let pm = mean.pointer, pr = rstd.pointer, pg = gy.pointer
            switch affine {
            case .column:
                if let weight, weight.requiresGrad { accumulateWeightGradient(weight.slot, pg, px, pm, pr, rows, length, affine) }
                if let bias, bias.requiresGrad {
                    Kernels.accumulateReduced(pg, shape: [rows, length], into: bias.gradAccumulator().pointer, dstShape: [length])
                }
                guard xSlot.requiresGrad else { return }
                let (target, overwrite) = xSlot.gradientTarget()
                let gx = target.pointer
                Parallel.forEach(rows, grain: max(1, 4096 / max(length, 1))) { range in
                    for r in range {
                        let row = px + r * length, g = pg + r * length, out = gx + r * length
                        Kernels.normalizationBackwardRow(x: row, gradient: g, columnWeight: pw, rowWeight: 1, mean: pm[r],
                                                         rstd: pr[r], count: length, into: out, accumulate: !overwrite)
                    }
                }
            case .rowChannel(let channels):
                // One pass per row gives Σg and Σg·(x − μ): the bias gradient, the weight gradient and
                // the two means of the data gradient.
                let sums = Storage(count: 2 * rows)
                let sg = sums.pointer, sgx = sums.pointer + rows
                let gxTarget = xSlot.requiresGrad ? xSlot.gradientTarget() : nil
                let gx = gxTarget?.tensor.pointer
                Parallel.forEach(rows, grain: max(1, 4096 / max(length, 1))) { range in
                    for r in range {
                        let row = px + r * length, g = pg + r * length
                        let (a, b) = Kernels.sumAndCenteredDot(g, row, mean: pm[r], count: length)
                        sg[r] = Float(a); sgx[r] = Float(b)
                        if let gx {
                            let w = pw?[r % channels] ?? 1
                            let s = pr[r], n = Double(length)
                            let meanG = Float(a / n) * w, meanGX = Float(b / n) * w * s
                            Kernels.instanceNormBackwardRow(x: row, gradient: g, weight: w, mean: pm[r], rstd: s,
                                                            meanG: meanG, meanGX: meanGX, count: length,
                                                            into: gx + r * length, accumulate: !(gxTarget?.overwrite ?? false))
                        }
                    }
                }
                if let weight, weight.requiresGrad {
                    let gw = weight.slot.gradAccumulator().pointer
                    for r in 0..<rows { gw[r % channels] += sgx[r] * pr[r] }
                }
                if let bias, bias.requiresGrad {
                    let gb = bias.gradAccumulator().pointer
                    for r in 0..<rows { gb[r % channels] += sg[r] }
                }
            }
        }
    }
}

private func accumulateWeightGradient(_ weight: GradSlot, _ pg: UnsafePointer<Float>, _ px: UnsafePointer<Float>,
                                      _ pm: UnsafePointer<Float>, _ pr: UnsafePointer<Float>,
                                      _ rows: Int, _ length: Int, _ affine: AffineAxis) {
    let gw = weight.gradAccumulator().pointer
    switch affine {
    case .column:
        for r in 0..<rows {
            let row = px + r * length, g = pg + r * length, mu = pm[r], s = pr[r]
            for i in 0..<length { gw[i] += g[i] * (row[i] - mu) * s }
        }
    case .rowChannel(let channels):
        for r in 0..<rows {
            let row = px + r * length, g = pg + r * length, mu = pm[r], s = pr[r]
            var total = 0.0
            for i in 0..<length { total += Double(g[i] * (row[i] - mu)) }
            gw[r % channels] += Float(total) * s
        }
    }
}

/// Layer norm over the last axis (PyTorch's LayerNorm(normalized_shape = last dim)).
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let length = x.shape[x.rank - 1]
    return normalizeRows("layerNorm", x, rows: x.count / length, length: length, eps: eps, weight: weight, bias: bias, affine: .column)
}

/// Instance norm of x [N, C, spatial…] over the spatial axes, with an optional per-channel affine.
public func instanceNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let channels = x.shape[1], length = x.shape[2...].reduce(1, *)
    return normalizeRows("instanceNorm", x, rows: x.shape[0] * channels, length: length, eps: eps, weight: weight, bias: bias,
                         affine: .rowChannel(channels: channels))
}

/// Batch norm of x [N, C, spatial…]. In training, normalises with the batch statistics and updates
/// the running ones in place (unbiased variance, PyTorch's momentum convention); in evaluation,
/// normalises with the running statistics.
public func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
    let n = x.shape[0], channels = x.shape[1], length = x.shape[2...].reduce(1, *)
    var mean = [Float](repeating: 0, count: channels), invStd = mean
    for c in 0..<channels {
        if training {
            var total = 0.0
            for i in 0..<n { total += Kernels.sumDouble(x.pointer + (i * channels + c) * length, count: length) }
            let count = Double(n * length)
            let mu = Float(total / count)
            var squares = 0.0
            for i in 0..<n { squares += Kernels.sumSquaredDeviation(x.pointer + (i * channels + c) * length, count: length, mean: mu) }
            let biased = squares / count
            mean[c] = mu
            invStd[c] = Float(1 / (biased + Double(eps)).squareRoot())
            runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * mu
            let unbiased = count > 1 ? squares / (count - 1) : biased
            runningVar.pointer[c] = (1 - momentum) * runningVar.pointer[c] + momentum * Float(unbiased)
        } else {
            mean[c] = runningMean.pointer[c]
            invStd[c] = 1 / (runningVar.pointer[c] + eps).squareRoot()
        }
    }
    let shape = [1, channels] + Array(repeating: 1, count: x.rank - 2)
    if !training {
        // A fixed per-channel affine map: scale = γ/σ, shift = β − μ·γ/σ, built from differentiable ops.
        let inv = Tensor(invStd, shape: shape), mu = Tensor(mean, shape: shape)
        var y = (x - mu) * inv
        if let weight { y = y * weight.reshaped(shape) }
        if let bias { y = y + bias.reshaped(shape) }
        return y
    }
    // Training: the batch-statistics normalisation with its full backward, channels as "rows" after a permute.
    let perChannel = x.permuted([1, 0] + Array(2..<x.rank)).reshaped([channels, n * length])
    let normalized = normalizeRows("batchNorm", perChannel, rows: channels, length: n * length, eps: eps,
                                   weight: weight, bias: bias, affine: .rowChannel(channels: channels))
    return normalized.reshaped([channels, n] + Array(x.shape[2...])).permuted([1, 0] + Array(2..<x.rank))
}
