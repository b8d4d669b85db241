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
        let (b1, b2, eps, lr, wd) = (beta1, beta2, epsilon, learningRate, weightDecay)
        let (ams, decoupled) = (amsgrad, decoupledWeightDecay)
        for (index, (_, parameter)) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let p = parameter.value.pointer, g = grad.pointer, pm = m[index].pointer, pv = v[index].pointer
            let pmax = ams ? vMax[index].pointer : pv
            Kernels.parallelMap(parameter.value.count) { range in
                for i in range {
                    var gi = g[i]
                    if decoupled { p[i] *= 1 - lr * wd } else { gi += wd * p[i] }
                    pm[i] = b1 * pm[i] + (1 - b1) * gi
                    pv[i] = b2 * pv[i] + (1 - b2) * gi * gi
                    var second = pv[i]
                    if ams { pmax[i] = max(pmax[i], pv[i]); second = pmax[i] }
                    p[i] -= stepSize * pm[i] / (second.squareRoot() / rootCorrection2 + eps)
                }
            }
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
