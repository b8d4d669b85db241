import Tensors

/// ΔW·x = s · B(A(dropout(x))) with A [r, in] and B [out, r] (PEFT's lora_A / lora_B layout).
package final class LowRankBranch {
    package let a: Linear, b: Linear
    let scaling: Float
    let dropout: Dropout?
    let names: (a: String, b: String)

    init(a: Tensor, b: Tensor, scaling: Float, dropout: Double, seed: UInt64, names: (a: String, b: String)) {
        self.a = Linear(weight: a, bias: nil)
        self.b = Linear(weight: b, bias: nil)
        self.scaling = scaling
        self.dropout = dropout > 0 ? Dropout(Float(dropout), seed: seed) : nil
        self.names = names
    }

    var children: [(String, Module)] { [(names.a, a), (names.b, b)] + (dropout.map { [("lora_dropout", $0)] } ?? []) }

    func callAsFunction(_ x: Tensor) -> Tensor { b(a(dropout?(x) ?? x)) * scaling }

    /// `layer`'s output with this update added. Without dropout that is one fused op, bit-identical to
    /// the sum below but without its intermediate tensors; with dropout the update reads another x.
    func output(_ x: Tensor, addedTo layer: Linear) -> Tensor {
        guard dropout == nil else { return layer.baseOutput(x) + self(x) }
        return linear(x, weight: layer.weight.value, bias: layer.bias?.value,
                      plus: LowRankFactors(a: a.weight.value, b: b.weight.value, scaling: scaling))
    }

    /// s · B · A, the dense update this branch adds to the weight.
    package func deltaWeight() -> Tensor { matmul(b.weight.value, a.weight.value) * scaling }
}

/// A Linear layer's output with any of: a parallel low-rank update, a parallel bottleneck on the
/// input, and a serial bottleneck on the result — LoRA, PiSSA, Parallel, Sequential, CPS and HyPS are
/// all this shape with different initialisations.
final class LinearAdapterStack: FoldableLinearAdapter {
    let lowRank: LowRankBranch?
    let parallel: Bottleneck?
    let serial: Bottleneck?

    init(lowRank: LowRankBranch? = nil, parallel: Bottleneck? = nil, serial: Bottleneck? = nil) {
        self.lowRank = lowRank
        self.parallel = parallel
        self.serial = serial
    }

    var children: [(String, Module)] {
        (lowRank?.children ?? []) + (parallel?.children ?? []) + (serial?.children ?? [])
    }
    var parameters: [(String, Parameter)] { [] }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        var h = lowRank?.output(x, addedTo: layer) ?? layer.baseOutput(x)
        if let parallel { h = h + parallel(x) }
        if let serial { h = h + serial(h) }
        return h
    }

    /// The low-rank update folds into the weight; the bottlenecks, being non-linear, stay attached.
    var canFold: Bool { lowRank != nil }
    func foldedWeight(base: Tensor) -> Tensor { lowRank.map { base + $0.deltaWeight() } ?? base }
    var remainderAfterFolding: (any LinearAdapter)? {
        parallel == nil && serial == nil ? nil : LinearAdapterStack(parallel: parallel, serial: serial)
    }
}
