import Backbones
import Tensors

/// W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖, the norm taken per output row (PEFT's layout), rebuilt and
/// differentiated in every forward pass (the norm is not detached).
final class DoRAAdapter: LinearAdapter {
    let branch: LowRankBranch
    let magnitude: Parameter

    init(branch: LowRankBranch, magnitude: Tensor) {
        self.branch = branch
        self.magnitude = Parameter(magnitude)
    }

    var children: [(String, Module)] { branch.children }
    var parameters: [(String, Parameter)] { [("lora_magnitude_vector", magnitude)] }

    func directedWeight(base: Tensor) -> Tensor {
        let w = base + branch.deltaWeight()
        let norms = sqrt(square(w).sum(axes: [1], keepingAxes: true))
        return w * (magnitude.value.reshaped([-1, 1]) / norms)
    }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        linear(x, weight: directedWeight(base: layer.weight.value), bias: layer.bias?.value)
    }
}

/// DoRA (Liu et al. 2024): a trainable magnitude per output feature and a LoRA update of the direction.
public struct DoRA: PEFTMethod {
    public typealias Config = LoRA.Config
    public static let name = "dora"
    public static let summary = "DoRA: magnitude vector plus a LoRA-updated direction"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let layers = try findTargets(config.targets, exclude: config.exclude, in: model, as: Linear.self, method: Self.name)
        let adaptation = Adaptation(method: Self.name, model: model)
        freezeAll(model, keepingTrainable: config.head)
        let r = config.rank
        for (name, layer) in layers {
            let branch = LowRankBranch(
                a: .kaimingUniform([r, layer.inFeatures], fanIn: layer.inFeatures, using: &rng),
                b: Tensor(zeros: [layer.outFeatures, r]),
                scaling: Float(config.alpha / Double(r)), dropout: 0, seed: 0, names: ("lora_A", "lora_B"))
            let norms = withoutGrad { sqrt(square(layer.weight.value).sum(axes: [1])) }
            let adapter = DoRAAdapter(branch: branch, magnitude: norms)
            layer.adapter = adapter
            adaptation.adapted.append(AdaptedModule(name: name, type: "Linear",
                                                    trainableParameters: branch.parameterCount + layer.outFeatures))
            adaptation.addMerger { [weak layer] in
                guard let layer, let adapter = layer.adapter as? DoRAAdapter else { return }
                layer.weight.assign(adapter.directedWeight(base: layer.weight.value))
                layer.adapter = nil
            }
        }
        return adaptation
    }
}
