import Backbones
import Tensors

/// W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖, the norm taken per output row (PEFT's layout), rebuilt and
/// differentiated in every forward pass (the norm is not detached).
final class DoRAAdapter: FoldableLinearAdapter {
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

    func foldedWeight(base: Tensor) -> Tensor { directedWeight(base: base) }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        linear(x, weight: directedWeight(base: layer.weight.value), bias: layer.bias?.value)
    }
}

/// DoRA (Liu et al. 2024): a trainable magnitude per output feature and a LoRA update of the direction.
/// It takes LoRA's options (so its cell keys read like LoRA's) except `dropout`: the weight is rebuilt
/// from B·A, with no dropout on the input, so a dropout would be ignored and is refused instead.
public struct DoRA: PEFTMethod {
    public typealias Config = LoRA.Config
    public static let name = "dora"
    public static let summary = "DoRA: magnitude vector plus a LoRA-updated direction"
    static let dropoutMessage = "dora has no dropout (its weight is rebuilt from B·A, the input is not dropped); remove 'dropout'"
    public let config: Config
    public init(config: Config) { self.config = config }

    public static func make(from decoder: any Decoder) throws -> any PEFTMethod {
        let config = try Config(from: decoder)
        guard config.dropout == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Config.CodingKeys.dropout],
                                                    debugDescription: dropoutMessage))
        }
        return DoRA(config: config)
    }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        guard config.dropout == 0 else { throw PEFTError.invalidConfiguration(method: Self.name, message: Self.dropoutMessage) }
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        let r = config.rank
        for (name, layer) in layers {
            let branch = LowRankBranch(
                a: .kaimingUniform([r, layer.inFeatures], fanIn: layer.inFeatures, using: &rng),
                b: Tensor(zeros: [layer.outFeatures, r]),
                scaling: Float(config.alpha / Double(r)), dropout: 0, seed: 0, names: ("lora_A", "lora_B"))
            let norms = withoutGrad { sqrt(square(layer.weight.value).sum(axes: [1])) }
            try adaptation.attach(DoRAAdapter(branch: branch, magnitude: norms), to: layer, named: name)
        }
        return adaptation
    }
}
