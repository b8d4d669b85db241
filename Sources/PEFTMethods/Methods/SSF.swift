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
    public struct Config: TargetedConfig {
        /// Which encoder modules get a scale-shift; by default every Linear and LayerNorm.
        public var targets = TargetPattern.regex(".*")
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, TargetOptionKeys { case targets, exclude, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read.readTargetOptions(into: &self)
        }
    }

    public static let name = "ssf"
    public static let summary = "SSF: per-channel scale and shift after every linear layer and layer norm"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, modules) = try Adaptation.opening(Self.name, on: model, config: config, adapting: [Linear.self, LayerNorm.self])
        for (name, module) in modules {
            // A LayerNorm without affine weights has no channel count to scale: an error, never a skip.
            guard let features = (module as? Linear)?.outFeatures ?? (module as? LayerNorm)?.weight?.shape[0] else {
                throw PEFTError.unsupportedModule(method: Self.name, name: name, type: "\(type(of: module)) without affine weights")
            }
            try adaptation.attach(ScaleShift(features: features), to: module, named: name)
        }
        return adaptation
    }
}
