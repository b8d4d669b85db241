public protocol ConvAdapter: LayerAdapter {
    func output(_ x: Tensor, layer: Conv3d) -> Tensor
}

/// PyTorch's nn.Conv3d (dilation 1, groups 1).
public final class Conv3d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: [Int], padding: [Int]
    public var adapter: (any ConvAdapter)?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int] = [1, 1, 1],
                padding: [Int] = [0, 0, 0], bias: Bool = true, rng: inout RandomGenerator) {
        let fanIn = inChannels * kernel.elementCount
        weight = Parameter(.kaimingUniform([outChannels, inChannels] + kernel, fanIn: fanIn, using: &rng))
        self.bias = bias ? Parameter(.kaimingUniform([outChannels], fanIn: fanIn, using: &rng)) : nil
        self.stride = stride
        self.padding = padding
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }

    override public var parameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) + (adapter?.parameters ?? [])
    }
    override public var children: [(String, Module)] { adapter?.children ?? [] }

    public func baseOutput(_ x: Tensor) -> Tensor {
        conv3d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { adapter?.output(x, layer: self) ?? baseOutput(x) }
}

/// PyTorch's nn.ConvTranspose3d: weight (in, out, kd, kh, kw).
public final class ConvTranspose3d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: [Int], padding: [Int]

    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int], padding: [Int] = [0, 0, 0],
                bias: Bool = true, rng: inout RandomGenerator) {
        // PyTorch computes fan_in from weight.size(1) * receptive field, i.e. from the output channels.
        let fanIn = outChannels * kernel.elementCount
        weight = Parameter(.kaimingUniform([inChannels, outChannels] + kernel, fanIn: fanIn, using: &rng))
        self.bias = bias ? Parameter(.kaimingUniform([outChannels], fanIn: fanIn, using: &rng)) : nil
        self.stride = stride
        self.padding = padding
    }

    override public var parameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        convTranspose3d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}
