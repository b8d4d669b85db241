/// SGD with momentum (PyTorch's convention: the first step stores the gradient as the buffer),
/// optional Nesterov and L2 weight decay.
public final class SGD: Optimizer {
    public let parameters: [(String, Parameter)]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    public var stepCount = 0
    private let buffers: [Tensor]

    public init(_ parameters: [(String, Parameter)], learningRate: Float, momentum: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        (self.momentum, self.weightDecay, self.nesterov) = (momentum, weightDecay, nesterov)
        buffers = momentum > 0 ? parameters.map { Tensor(zeros: $0.1.shape) } : []
    }

    public func step() {
        let first = stepCount == 0
        stepCount += 1
        let (lr, mu, wd, nest) = (learningRate, momentum, weightDecay, nesterov)
        for (index, (_, parameter)) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let p = parameter.value.pointer, g = grad.pointer
            let buf = mu > 0 ? buffers[index].pointer : nil
            Kernels.parallelMap(parameter.value.count) { range in
                for i in range {
                    var d = g[i] + wd * p[i]
                    if let buf {
                        buf[i] = first ? d : mu * buf[i] + d
                        d = nest ? d + mu * buf[i] : buf[i]
                    }
                    p[i] -= lr * d
                }
            }
            parameter.markUpdated()
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        buffers.indices.map { ("momentum_buffer.\(parameters[$0].0)", buffers[$0]) }
    }
}
