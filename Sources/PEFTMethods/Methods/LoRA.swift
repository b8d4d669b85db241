import Backbones
import ConfigDecoding
import Tensors

/// LoRA (Hu et al. 2021): h = W x + (α/r) B A dropout(x), A Kaiming-uniform, B zero.
public struct LoRA: PEFTMethod {
    public struct Config: TargetedConfig {
        public var rank = 8
        public var alpha = 16.0
        public var dropout = 0.0
        public var targets = defaultLinearTargets
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, TargetOptionKeys { case rank, alpha, dropout, targets, exclude, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.rank, \.rank), (.alpha, \.alpha), (.dropout, \.dropout))
            try read.readTargetOptions(into: &self)
            try read.require(rank > 0, .rank, "rank must be positive")
            try read.require((0..<1).contains(dropout), .dropout, "dropout must be in [0, 1)")
        }
    }

    public static let name = "lora"
    public static let summary = "LoRA: low-rank updates (α/r)·B·A on the transformer's projections"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        let r = config.rank
        for (name, layer) in layers {
            let branch = LowRankBranch(
                a: .kaimingUniform([r, layer.inFeatures], fanIn: layer.inFeatures, using: &rng),
                b: Tensor(zeros: [layer.outFeatures, r]),
                scaling: Float(config.alpha / Double(r)), dropout: config.dropout, seed: rng.next(),
                names: ("lora_A", "lora_B"))
            try adaptation.attach(LinearAdapterStack(lowRank: branch), to: layer, named: name)
        }
        return adaptation
    }
}
