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
        // A product's or a quotient's backward reads the other operand (and a quotient's, the divisor):
        // keep only those, so that a sum keeps neither and `x * mask` keeps the mask alone.
        let keepA = (op == .multiply || op == .divide) && b.requiresGrad
        let keepB = (op == .multiply && a.requiresGrad) || op == .divide
        return y.recording(op.kind, [a, b]) { [sa = a.slot, sb = b.slot, a = keepA ? a : nil, b = keepB ? b : nil] gy in
            let count = gy.count
            /// x's gradient (=|+=) g (a tensor of the output's shape), summed over x's broadcast axes.
            func push(_ g: Tensor, to x: GradSlot) {
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
            func pushProduct(_ other: UnsafePointer<Float>?, scale: Float, to x: GradSlot) {
                let (target, overwrite) = x.gradientTarget()
                Kernels.scaledProduct(gy.pointer, other, scale: scale, into: target.pointer, count: count,
                                      accumulate: !overwrite)
            }
            switch op {
            case .add:
                if sa.requiresGrad { push(gy, to: sa) }
                if sb.requiresGrad { push(gy, to: sb) }
            case .subtract:
                if sa.requiresGrad { push(gy, to: sa) }
                if sb.requiresGrad {
                    if sb.count == count { pushProduct(nil, scale: -1, to: sb) } else { push(negate(gy), to: sb) }
                }
            case .multiply:
                if sa.requiresGrad, let b {
                    if sa.count == count && b.count == count { pushProduct(b.pointer, scale: 1, to: sa) } else { push(withoutGrad { gy * b }, to: sa) }
                }
                if sb.requiresGrad, let a {
                    if a.count == count && sb.count == count { pushProduct(a.pointer, scale: 1, to: sb) } else { push(withoutGrad { gy * a }, to: sb) }
                }
            case .divide:
                if sa.requiresGrad, let b { push(withoutGrad { gy / b }, to: sa) }
                if sb.requiresGrad, let a, let b { push(withoutGrad { negate(gy * a / (b * b)) }, to: sb) }  // not y: a node must not hold its own output
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
        return y.recording("affine", [x]) { [x = x.slot] gy in
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
