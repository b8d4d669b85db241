import Foundation

/// Softmax and log-softmax along one axis. The tensor is read as [outer, n, inner]; with inner > 1
/// (channels of NCDHW) the loops run across the contiguous inner positions.
private func softmaxFamily(_ x: Tensor, axis: Int, log logarithm: Bool) -> Tensor {
    Profiler.measure(logarithm ? "logSoftmax" : "softmax", .forward) {
        let axis = axis < 0 ? axis + x.rank : axis
        let n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        let y = Tensor(uninitialized: x.shape)
        let px = x.pointer, py = y.pointer
        if inner == 1 {
            Parallel.forEach(outer, grain: max(1, 8192 / n)) { range in
                for o in range {
                    let row = px + o * n, out = py + o * n
                    out.update(from: row, count: n)
                    let (maximum, inverse) = Kernels.softmaxRow(out, count: n)
                    if logarithm {
                        let shift = maximum - Foundation.log(inverse)
                        for i in 0..<n { out[i] = row[i] - shift }
                    }
                }
            }
        } else {
            Parallel.forEach(outer * ((inner + 1023) / 1024)) { range in
                let scratch = Storage(count: 2 * 1024)
                let m = scratch.pointer, total = scratch.pointer + 1024
                for block in range {
                    let o = block / ((inner + 1023) / 1024), start = (block % ((inner + 1023) / 1024)) * 1024
                    let width = min(1024, inner - start)
                    let base = o * n * inner + start
                    m.update(from: px + base, count: width)
                    for c in 1..<max(n, 1) { let row = px + base + c * inner; for i in 0..<width { m[i] = max(m[i], row[i]) } }
                    total.update(repeating: 0, count: width)
                    for c in 0..<n {
                        let row = px + base + c * inner, out = py + base + c * inner
                        for i in 0..<width { out[i] = Foundation.exp(row[i] - m[i]); total[i] += out[i] }
                    }
                    if logarithm {
                        for i in 0..<width { m[i] += Foundation.log(total[i]) }
                        for c in 0..<n { let row = px + base + c * inner, out = py + base + c * inner; for i in 0..<width { out[i] = row[i] - m[i] } }
                    } else {
                        for i in 0..<width { total[i] = 1 / total[i] }
                        for c in 0..<n { let out = py + base + c * inner; for i in 0..<width { out[i] *= total[i] } }
                    }
                }
            }
        }
        // The backward reads y alone (its storage: y owns this node).
        return y.recording(logarithm ? "logSoftmax" : "softmax", [x]) { [x = x.slot, outputs = y.storage] gy in
            let pg = gy.pointer, py = outputs.pointer, (target, overwrite) = x.gradientTarget(), gx = target.pointer
            if inner == 1 {  // the last axis (attention rows): one reduction per row
                Parallel.forEach(outer, grain: max(1, 8192 / max(n, 1))) { range in
                    for o in range {
                        let g = pg + o * n, out = py + o * n, dx = gx + o * n
                        if logarithm {
                            let total = Kernels.sum(g, count: n)
                            if overwrite {
                                for i in 0..<n { dx[i] = g[i] - Foundation.exp(out[i]) * total }
                            } else {
                                for i in 0..<n { dx[i] += g[i] - Foundation.exp(out[i]) * total }
                            }
                        } else {
                            let dot = Kernels.dot(g, out, count: n)
                            if overwrite {
                                for i in 0..<n { dx[i] = out[i] * (g[i] - dot) }
                            } else {
                                for i in 0..<n { dx[i] += out[i] * (g[i] - dot) }
                            }
                        }
                    }
                }
                return
            }
            // softmax: dx = y ⊙ (dy − Σ dy⊙y);  log-softmax: dx = dy − softmax ⊙ Σ dy. Blocks of up to
            // 1024 inner positions, so that every layout spreads over the workers.
            let width = min(inner, 1024), blocksPerRow = (inner + width - 1) / width
            Parallel.forEach(outer * blocksPerRow, grain: max(1, 4096 / max(1, n * width))) { range in
                let dots = UnsafeMutablePointer<Float>.allocate(capacity: width)
                defer { dots.deallocate() }
                for block in range {
                    let o = block / blocksPerRow, start = (block % blocksPerRow) * width
                    let w = min(width, inner - start)
                    let base = o * n * inner + start
                    dots.update(repeating: 0, count: w)
                    for c in 0..<n {
                        let g = pg + base + c * inner, out = py + base + c * inner
                        if logarithm { for i in 0..<w { dots[i] += g[i] } } else { for i in 0..<w { dots[i] += g[i] * out[i] } }
                    }
                    for c in 0..<n {
                        let g = pg + base + c * inner, out = py + base + c * inner, dx = gx + base + c * inner
                        switch (logarithm, overwrite) {
                        case (true, true): for i in 0..<w { dx[i] = g[i] - Foundation.exp(out[i]) * dots[i] }
                        case (true, false): for i in 0..<w { dx[i] += g[i] - Foundation.exp(out[i]) * dots[i] }
                        case (false, true): for i in 0..<w { dx[i] = out[i] * (g[i] - dots[i]) }
                        case (false, false): for i in 0..<w { dx[i] += out[i] * (g[i] - dots[i]) }
                        }
                    }
                }
            }
        }
    }
}

public func softmax(_ x: Tensor, axis: Int) -> Tensor { softmaxFamily(x, axis: axis, log: false) }
public func logSoftmax(_ x: Tensor, axis: Int) -> Tensor { softmaxFamily(x, axis: axis, log: true) }
