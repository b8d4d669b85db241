/// Replaces or wraps a layer's computation (LoRA, DoRA, SSF, …). Its parameters and children appear
/// under the host layer, so `qkv.lora_A.weight` sits beside `qkv.weight` and the base keys never move.
public protocol LayerAdapter: AnyObject {
    var children: [(String, Module)] { get }
    var parameters: [(String, Parameter)] { get }
}

public protocol LinearAdapter: LayerAdapter {
    /// The adapted layer's whole output; `layer.baseOutput(x)` is the original layer's.
    func output(_ x: Tensor, layer: Linear) -> Tensor
}

/// PyTorch's nn.Linear: weight (out, in), optional bias.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public var adapter: (any LinearAdapter)?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
    }

    /// PyTorch's default initialisation (uniform ±1/√in for weight and bias).
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        let w = Tensor.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures, using: &rng)
        let b = bias ? Tensor.kaimingUniform([outFeatures], fanIn: inFeatures, using: &rng) : nil
        self.init(weight: w, bias: b)
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    override public var parameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) + (adapter?.parameters ?? [])
    }
    override public var children: [(String, Module)] { adapter?.children ?? [] }

    public func baseOutput(_ x: Tensor) -> Tensor { linear(x, weight: weight.value, bias: bias?.value) }

    public func callAsFunction(_ x: Tensor) -> Tensor { adapter?.output(x, layer: self) ?? baseOutput(x) }
}
