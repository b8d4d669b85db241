import Foundation

/// Adam (L2 weight decay added to the gradient, PyTorch's `Adam`) or AdamW (decoupled decay), with
/// optional AMSGrad. One fused loop per parameter updates value, m, v (and v_max) in place.
public final class Adam: Optimizer {
    public let parameters: [(String, Parameter)]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let amsgrad: Bool, decoupledWeightDecay: Bool
    public var stepCount = 0
    private let m: [Tensor], v: [Tensor], vMax: [Tensor]

    public init(_ parameters: [(String, Parameter)], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        (self.amsgrad, self.decoupledWeightDecay) = (amsgrad, decoupledWeightDecay)
        m = parameters.map { Tensor(zeros: $0.1.shape) }
        v = parameters.map { Tensor(zeros: $0.1.shape) }
        vMax = amsgrad ? parameters.map { Tensor(zeros: $0.1.shape) } : []
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = 1 - pow(Double(beta1), t), correction2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / correction1)
        let rootCorrection2 = Float(correction2.squareRoot())
        for (index, (_, parameter)) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            Kernels.adamUpdate(parameter: parameter.value.pointer, gradient: grad.pointer, m: m[index].pointer,
                               v: v[index].pointer, vMax: amsgrad ? vMax[index].pointer : nil, count: parameter.value.count,
                               stepSize: stepSize, beta1: beta1, beta2: beta2, epsilon: epsilon,
                               rootCorrection2: rootCorrection2, learningRate: learningRate, weightDecay: weightDecay,
                               decoupled: decoupledWeightDecay)
            parameter.markUpdated()
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        var state: [(String, Tensor)] = []
        for (index, (name, _)) in parameters.enumerated() {
            state.append(("exp_avg.\(name)", m[index]))
            state.append(("exp_avg_sq.\(name)", v[index]))
            if amsgrad { state.append(("max_exp_avg_sq.\(name)", vMax[index])) }
        }
        return state
    }
}
