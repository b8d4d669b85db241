/// The factors of a low-rank weight update s · B·A (LoRA's lora_A [r, in] and lora_B [out, r]).
public struct LowRankFactors {
    public let a: Tensor, b: Tensor, scaling: Float
    public init(a: Tensor, b: Tensor, scaling: Float) {
        self.a = a
        self.b = b
        self.scaling = scaling
    }
}

/// `y = x Wᵀ + bias + s · (x Aᵀ) Bᵀ` as one op: a LoRA-shaped layer's output without the scaled
/// update, the sum and their gradients as tensors and passes of their own.
///
/// It does the float operations of `linear(x, W, bias) + linear(linear(x, A), B) * s` in the order
/// that composition's graph runs them (forward: the three products, then one pass adding s·v; backward:
/// s·dY, the B product's gradients, the A product's, then the base product's), so values and gradients
/// are bit-identical to it (`LowRankLinearTests`) and records made either way agree.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, plus update: LowRankFactors) -> Tensor {
    Profiler.measure("linear", .forward) {
        let a = update.a, b = update.b, scaling = update.scaling
        let rank = a.shape[0]
        precondition(a.shape == [rank, weight.shape[1]] && b.shape == [weight.shape[0], rank],
                     "low-rank update A \(a.shape), B \(b.shape) for weight \(weight.shape)")
        let y = linearValue(x, weight: weight, bias: bias)
        let t = linearValue(x, weight: a, bias: nil)
        let v = linearValue(t, weight: b, bias: nil)
        let py = y.pointer, pv = v.pointer
        Kernels.parallelMap(y.count) { r in for i in r { py[i] = py[i] + scaling * pv[i] } }

        // t is no graph tensor: its gradient lives in its own slot between the two inner backwards.
        let tNeedsGradient = x.requiresGrad || a.requiresGrad
        let base = LinearBackward(x: x, weight: weight, bias: bias)
        let outer = LinearBackward(x: t, weight: b, bias: nil, xNeedsGradient: tNeedsGradient)
        let inner = LinearBackward(x: x, weight: a, bias: nil)
        return y.recording("linear", [x, weight, a, b] + (bias.map { [$0] } ?? [])) { [tSlot = t.slot, bSlot = b.slot] gy in
            if tNeedsGradient || bSlot.requiresGrad {
                let scaled = Tensor(uninitialized: gy.shape)
                Kernels.scaledProduct(gy.pointer, nil, scale: scaling, into: scaled.pointer, count: gy.count,
                                      accumulate: false)
                outer(scaled)
            }
            if let gt = tSlot.grad {
                tSlot.grad = nil
                inner(gt)
            }
            base(gy)
        }
    }
}
