import Foundation

/// Pointwise functions `y = f(x)` whose derivative is computed from x (and y) in the backward.
@inline(__always)
private func pointwise(_ kind: StaticString, _ x: Tensor, forward: @escaping (Float) -> Float,
                       derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    Profiler.measure(kind, .forward) {
        let y = Tensor(uninitialized: x.shape)
        do {
            let px = x.pointer, py = y.pointer
            Kernels.parallelMap(x.count) { r in for i in r { py[i] = forward(px[i]) } }
        }
        // The derivative reads x and y: keep both buffers (y's storage, not y, which owns this node).
        return y.recording(kind, [x]) { [x = x.slot, inputs = x.storage, outputs = y.storage] gy in
            let g = gy.pointer, (target, overwrite) = x.gradientTarget(), gx = target.pointer
            let px = inputs.pointer, py = outputs.pointer
            if overwrite {
                Kernels.parallelMap(x.count) { r in for i in r { gx[i] = g[i] * derivative(px[i], py[i]) } }
            } else {
                Kernels.parallelMap(x.count) { r in for i in r { gx[i] += g[i] * derivative(px[i], py[i]) } }
            }
        }
    }
}

public func relu(_ x: Tensor) -> Tensor { leakyRelu("relu", x, slope: 0) }

public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor { leakyRelu("leakyRelu", x, slope: slope) }

/// With a non-negative slope y > 0 exactly where x > 0, so the backward reads the output instead of
/// the input: the input (a norm's output in every conv block) is then freed, while the output is
/// usually kept anyway by the convolution it feeds. At 128³ that is two full-size maps per residual
/// block fewer held from forward to backward.
private func leakyRelu(_ kind: StaticString, _ x: Tensor, slope: Float) -> Tensor {
    Profiler.measure(kind, .forward) {
        let y = Tensor(uninitialized: x.shape)
        Kernels.leakyRelu(x.pointer, into: y.pointer, count: x.count, slope: slope)
        // The output's storage, not y, which owns this node.
        let signs = slope >= 0 ? y.storage : x.storage
        return y.recording(kind, [x]) { [x = x.slot, signs, count = x.count] gy in
            let (target, overwrite) = x.gradientTarget()
            Kernels.leakyReluBackward(signs.pointer, gy.pointer, into: target.pointer, count: count, slope: slope,
                                      accumulate: !overwrite)
        }
    }
}

public func sigmoid(_ x: Tensor) -> Tensor {
    pointwise("sigmoid", x, forward: { 1 / (1 + exp(-$0)) }, derivative: { _, y in y * (1 - y) })
}

/// Exact GELU, `x · Φ(x)` with the error function (PyTorch's default `approximate='none'`; erf as in
/// PyTorch's vectorised CPU kernel).
public func gelu(_ x: Tensor) -> Tensor {
    Profiler.measure("gelu", .forward) {
        let y = Tensor(uninitialized: x.shape)
        Kernels.gelu(x.pointer, into: y.pointer, count: x.count)
        return y.recording("gelu", [x]) { [x] gy in
            let (target, overwrite) = x.slot.gradientTarget()
            Kernels.geluBackward(x.pointer, gy.pointer, into: target.pointer, count: x.count, accumulate: !overwrite)
        }
    }
}

public func exp(_ x: Tensor) -> Tensor {
    pointwise("exp", x, forward: { Foundation.exp($0) }, derivative: { _, y in y })
}

public func log(_ x: Tensor) -> Tensor {
    pointwise("log", x, forward: { Foundation.log($0) }, derivative: { x, _ in 1 / x })
}

public func sqrt(_ x: Tensor) -> Tensor {
    pointwise("sqrt", x, forward: { $0.squareRoot() }, derivative: { _, y in 0.5 / y })
}

public func square(_ x: Tensor) -> Tensor {
    pointwise("square", x, forward: { $0 * $0 }, derivative: { x, _ in 2 * x })
}
