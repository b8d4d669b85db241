import Backbones
import ConfigDecoding
import Tensors

/// y = γ ⊙ base(x) + β over the last (channel) axis; γ = 1, β = 0 at initialisation.
final class ScaleShift: LinearAdapter, NormAdapter {
    let scale: Parameter, shift: Parameter

    init(features: Int) {
        scale = Parameter(Tensor(repeating: 1, shape: [features]))
        shift = Parameter(Tensor(zeros: [features]))
    }

    var children: [(String, Module)] { [] }
    var parameters: [(String, Parameter)] { [("ssf_scale", scale), ("ssf_shift", shift)] }

    func output(_ x: Tensor, layer: Linear) -> Tensor { layer.baseOutput(x) * scale.value + shift.value }
    func output(_ x: Tensor, layer: LayerNorm) -> Tensor { layer.baseOutput(x) * scale.value + shift.value }
}

/// SSF (Lian et al. 2022): a per-channel scale and shift after every linear layer and layer norm of
/// the encoder.
public struct SSF: PEFTMethod {
    public struct Config: MethodConfig {
        /// Which encoder modules get a scale-shift; by default every Linear and LayerNorm.
        public var targets = TargetPattern.regex(".*")
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case targets, exclude, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            targets = try read(.targets, targets)
            exclude = try read(.exclude, exclude)
            head = try read(.head, head)
        }
    }

    public static let name = "ssf"
    public static let summary = "SSF: per-channel scale and shift after every linear layer and layer norm"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let encoder = model.encoderModuleName + "."
        let matches = model.namedModules().filter { name, module in
            name.hasPrefix(encoder) && (module is Linear || module is LayerNorm)
                && config.targets.matches(name) && !(config.exclude?.matches(name) ?? false)
        }
        guard !matches.isEmpty else {
            throw PEFTError.noMatchingModules(method: Self.name, pattern: config.targets.description, nearby: [])
        }
        let adaptation = Adaptation(method: Self.name, model: model)
        freezeAll(model, keepingTrainable: config.head)
        for (name, module) in matches {
            if let layer = module as? Linear {
                let adapter = ScaleShift(features: layer.outFeatures)
                layer.adapter = adapter
                adaptation.adapted.append(AdaptedModule(name: name, type: "Linear", trainableParameters: 2 * layer.outFeatures))
            } else if let norm = module as? LayerNorm, let features = norm.weight?.shape[0] {
                norm.adapter = ScaleShift(features: features)
                adaptation.adapted.append(AdaptedModule(name: name, type: "LayerNorm", trainableParameters: 2 * features))
            }
            adaptation.addUnmergeablePart()
        }
        return adaptation
    }
}
