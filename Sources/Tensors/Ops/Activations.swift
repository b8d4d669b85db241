import Foundation

/// Pointwise functions `y = f(x)` whose derivative is computed from x (and y) in the backward.
@inline(__always)
private func pointwise(_ kind: StaticString, _ x: Tensor, forward: @escaping (Float) -> Float,
                       derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    Profiler.measure(kind, .forward) {
        let y = Tensor(uninitialized: x.shape)
        let px = x.pointer, py = y.pointer
        Kernels.parallelMap(x.count) { r in for i in r { py[i] = forward(px[i]) } }
        return y.recording(kind, [x]) { gy in
            let g = gy.pointer, gx = x.gradAccumulator().pointer
            Kernels.parallelMap(x.count) { r in for i in r { gx[i] += g[i] * derivative(px[i], py[i]) } }
        }
    }
}

public func relu(_ x: Tensor) -> Tensor {
    pointwise("relu", x, forward: { max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
    pointwise("leakyRelu", x, forward: { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
}

public func sigmoid(_ x: Tensor) -> Tensor {
    pointwise("sigmoid", x, forward: { 1 / (1 + exp(-$0)) }, derivative: { _, y in y * (1 - y) })
}

/// Exact GELU, `x · Φ(x)` with the error function (PyTorch's default `approximate='none'`).
public func gelu(_ x: Tensor) -> Tensor {
    pointwise("gelu", x, forward: { x in 0.5 * x * (1 + erf(x * 0.70710678118654752)) },
              derivative: { x, _ in
                  0.5 * (1 + erf(x * 0.70710678118654752)) + x * 0.3989422804014327 * exp(-0.5 * x * x)
              })
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
