/// Broadcasting arithmetic. The backward of each op sums its gradient back to each operand's shape.
enum BinaryOperator {
    case add, subtract, multiply, divide

    var kind: StaticString {
        switch self {
        case .add: "add"
        case .subtract: "subtract"
        case .multiply: "multiply"
        case .divide: "divide"
        }
    }
}

private func binary(_ a: Tensor, _ b: Tensor, _ op: BinaryOperator) -> Tensor {
    Profiler.measure(op.kind, .forward) {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let y = Tensor(uninitialized: shape)
        let pa = a.pointer, pb = b.pointer, py = y.pointer
        if a.shape == b.shape {
            Kernels.parallelMap(y.count) { r in
                switch op {
                case .add: for i in r { py[i] = pa[i] + pb[i] }
                case .subtract: for i in r { py[i] = pa[i] - pb[i] }
                case .multiply: for i in r { py[i] = pa[i] * pb[i] }
                case .divide: for i in r { py[i] = pa[i] / pb[i] }
                }
            }
        } else {
            let loop = StridedLoop(shape: shape, operandStrides: [broadcastStrides(a.shape, to: shape),
                                                                  broadcastStrides(b.shape, to: shape)])
            let n = loop.runLength, sa = loop.runStride(1), sb = loop.runStride(2)
            loop.forEachRun { o in
                let ya = pa + o[1], yb = pb + o[2], yy = py + o[0]
                switch op {
                case .add: for i in 0..<n { yy[i] = ya[i * sa] + yb[i * sb] }
                case .subtract: for i in 0..<n { yy[i] = ya[i * sa] - yb[i * sb] }
                case .multiply: for i in 0..<n { yy[i] = ya[i * sa] * yb[i * sb] }
                case .divide: for i in 0..<n { yy[i] = ya[i * sa] / yb[i * sb] }
                }
            }
        }
        return y.recording(op.kind, [a, b]) { gy in
            let count = gy.count
            /// x's gradient (=|+=) g (a tensor of the output's shape), summed over x's broadcast axes.
            func push(_ g: Tensor, to x: Tensor) {
                let (target, overwrite) = x.gradientTarget()
                if x.count == count {
                    if overwrite {
                        Kernels.copy(g.pointer, into: target.pointer, count: count)
                    } else {
                        Kernels.add(g.pointer, into: target.pointer, count: count)
                    }
                } else {
                    if overwrite { target.pointer.update(repeating: 0, count: x.count) }
                    Kernels.accumulateReduced(g.pointer, shape: g.shape, into: target.pointer, dstShape: x.shape)
                }
            }
            /// x's gradient (=|+=) scale · gy · other, for x and other of the output's shape.
            func pushProduct(_ other: UnsafePointer<Float>?, scale: Float, to x: Tensor) {
                let (target, overwrite) = x.gradientTarget()
                Kernels.scaledProduct(gy.pointer, other, scale: scale, into: target.pointer, count: count,
                                      accumulate: !overwrite)
            }
            switch op {
            case .add:
                if a.requiresGrad { push(gy, to: a) }
                if b.requiresGrad { push(gy, to: b) }
            case .subtract:
                if a.requiresGrad { push(gy, to: a) }
                if b.requiresGrad {
                    if b.count == count { pushProduct(nil, scale: -1, to: b) } else { push(negate(gy), to: b) }
                }
            case .multiply:
                if a.requiresGrad {
                    if a.count == count && b.count == count { pushProduct(b.pointer, scale: 1, to: a) } else { push(withoutGrad { gy * b }, to: a) }
                }
                if b.requiresGrad {
                    if a.count == count && b.count == count { pushProduct(a.pointer, scale: 1, to: b) } else { push(withoutGrad { gy * a }, to: b) }
                }
            case .divide:
                if a.requiresGrad { push(withoutGrad { gy / b }, to: a) }
                if b.requiresGrad { push(withoutGrad { negate(gy * a / (b * b)) }, to: b) }  // not y: a node must not hold its own output
            }
        }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .add) }
public func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .subtract) }
public func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .multiply) }
public func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .divide) }

/// `a · x + b` elementwise, for scalars a and b.
public func affine(_ x: Tensor, scale a: Float, shift b: Float = 0) -> Tensor {
    Profiler.measure("affine", .forward) {
        let y = Tensor(uninitialized: x.shape)
        let px = x.pointer, py = y.pointer
        Kernels.parallelMap(x.count) { r in for i in r { py[i] = a * px[i] + b } }
        return y.recording("affine", [x]) { gy in
            let (target, overwrite) = x.gradientTarget()
            Kernels.scaledProduct(gy.pointer, nil, scale: a, into: target.pointer, count: x.count, accumulate: !overwrite)
        }
    }
}

public func * (x: Tensor, s: Float) -> Tensor { affine(x, scale: s) }
public func * (s: Float, x: Tensor) -> Tensor { affine(x, scale: s) }
public func + (x: Tensor, s: Float) -> Tensor { affine(x, scale: 1, shift: s) }
public func - (x: Tensor, s: Float) -> Tensor { affine(x, scale: 1, shift: -s) }
public prefix func - (x: Tensor) -> Tensor { affine(x, scale: -1) }

func negate(_ x: Tensor) -> Tensor { withoutGrad { affine(x, scale: -1) } }
