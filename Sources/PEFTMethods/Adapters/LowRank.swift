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
    var parameterCount: Int { a.parameterCount + b.parameterCount }

    func callAsFunction(_ x: Tensor) -> Tensor { b(a(dropout?(x) ?? x)) * scaling }

    /// s · B · A, the dense update this branch adds to the weight.
    package func deltaWeight() -> Tensor { matmul(b.weight.value, a.weight.value) * scaling }
}

/// A Linear layer's output with any of: a parallel low-rank update, a parallel bottleneck on the
/// input, and a serial bottleneck on the result — LoRA, PiSSA, Parallel, Sequential, CPS and HyPS are
/// all this shape with different initialisations.
final class LinearAdapterStack: LinearAdapter {
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
    var parameterCount: Int { (lowRank?.parameterCount ?? 0) + (parallel?.parameterCount ?? 0) + (serial?.parameterCount ?? 0) }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        var h = layer.baseOutput(x)
        if let lowRank { h = h + lowRank(x) }
        if let parallel { h = h + parallel(x) }
        if let serial { h = h + serial(h) }
        return h
    }
}

extension Adaptation {
    /// Attaches `stack` to `layer`, records it, and registers how to fold its low-rank part.
    func attach(_ stack: LinearAdapterStack, to layer: Linear, named name: String) {
        layer.adapter = stack
        adapted.append(AdaptedModule(name: name, type: "Linear", trainableParameters: stack.parameterCount))
        if stack.parallel != nil || stack.serial != nil { addUnmergeablePart() }
        guard stack.lowRank != nil else { return }
        addMerger { [weak layer] in
            guard let layer, let adapter = layer.adapter as? LinearAdapterStack, let branch = adapter.lowRank else { return }
            layer.weight.assign(layer.weight.value + branch.deltaWeight())
            let remaining = LinearAdapterStack(parallel: adapter.parallel, serial: adapter.serial)
            layer.adapter = remaining.parallel == nil && remaining.serial == nil ? nil : remaining
        }
    }
}
