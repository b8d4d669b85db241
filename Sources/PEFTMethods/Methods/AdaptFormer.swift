import Backbones
import ConfigDecoding
import Tensors

/// AdaptFormer (Chen et al. 2022): a parallel bottleneck beside each MLP block,
/// x + MLP(LN(x)) + s·Up(ReLU(Down(LN(x)))).
public struct AdaptFormer: PEFTMethod {
    public struct Config: MethodConfig {
        public var bottleneck = 16
        public var scale = 0.1
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case bottleneck, scale, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.bottleneck, \.bottleneck), (.scale, \.scale), (.head, \.head))
            try read.require(bottleneck > 0, .bottleneck, "bottleneck must be positive")
        }
    }

    public static let name = "adaptformer"
    public static let summary = "AdaptFormer: a scaled parallel bottleneck beside every MLP block"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let blocks = try findBlocks(["mlp"], in: model, method: Self.name)
        let adaptation = Adaptation(method: Self.name, model: model, head: config.head)
        for (name, block) in blocks {
            let bottleneck = Bottleneck(input: block.width, output: block.width, width: config.bottleneck, bias: true,
                                        activation: .relu, scaling: Float(config.scale),
                                        names: ("adaptmlp_down", "adaptmlp_up"), rng: &rng)
            try adaptation.attach(BlockBottleneckAdapter(bottleneck, placement: .parallel), to: block, named: name)
        }
        return adaptation
    }
}
