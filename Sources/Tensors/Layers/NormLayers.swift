public protocol NormAdapter: LayerAdapter {
    func output(_ x: Tensor, layer: LayerNorm) -> Tensor
}

/// PyTorch's nn.LayerNorm over the last axis.
public final class LayerNorm: Module {
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float
    public var adapter: (any NormAdapter)?

    public init(_ features: Int, eps: Float = 1e-5, affine: Bool = true) {
        weight = affine ? Parameter(Tensor(repeating: 1, shape: [features])) : nil
        bias = affine ? Parameter(Tensor(zeros: [features])) : nil
        self.eps = eps
    }

    override public var parameters: [(String, Parameter)] {
        [("weight", weight), ("bias", bias)].compactMap { name, p in p.map { (name, $0) } } + (adapter?.parameters ?? [])
    }
    override public var children: [(String, Module)] { adapter?.children ?? [] }

    public func baseOutput(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight?.value, bias: bias?.value, eps: eps) }
    public func callAsFunction(_ x: Tensor) -> Tensor { adapter?.output(x, layer: self) ?? baseOutput(x) }
}

/// PyTorch's nn.InstanceNorm3d (no running statistics; affine optional, off by default as in MONAI).
public final class InstanceNorm3d: Module {
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float

    public init(_ channels: Int, affine: Bool = false, eps: Float = 1e-5) {
        weight = affine ? Parameter(Tensor(repeating: 1, shape: [channels])) : nil
        bias = affine ? Parameter(Tensor(zeros: [channels])) : nil
        self.eps = eps
    }

    override public var parameters: [(String, Parameter)] {
        [("weight", weight), ("bias", bias)].compactMap { name, p in p.map { (name, $0) } }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { instanceNorm(x, weight: weight?.value, bias: bias?.value, eps: eps) }
}

/// PyTorch's nn.BatchNorm3d with running statistics.
public final class BatchNorm3d: Module, ForwardStateful {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer, runningVar: Buffer, batchesTracked: Buffer
    public let eps: Float, momentum: Float

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(Tensor(repeating: 1, shape: [channels]))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Buffer(Tensor(zeros: [channels]))
        runningVar = Buffer(Tensor(repeating: 1, shape: [channels]))
        batchesTracked = Buffer(Tensor(zeros: []), kind: .int64)
        self.eps = eps
        self.momentum = momentum
    }

    override public var parameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    override public var buffers: [(String, Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
    }

    /// The running statistics a training-mode forward updates.
    public func captureForwardState() -> () -> Void {
        let saved = [runningMean, runningVar, batchesTracked].map { ($0.value, $0.value.detached()) }
        return { for (buffer, values) in saved { buffer.assign(from: values) } }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if isTraining && GradMode.isEnabled { batchesTracked.value.pointer[0] += 1 }
        return batchNorm(x, weight: weight.value, bias: bias.value, runningMean: runningMean.value,
                         runningVar: runningVar.value, training: isTraining, momentum: momentum, eps: eps)
    }
}
