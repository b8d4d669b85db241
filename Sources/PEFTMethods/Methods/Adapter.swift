import Backbones
import ConfigDecoding
import Tensors

/// Adapter (Houlsby et al. 2019): a serial bottleneck z + Up(act(Down(z))) after the attention block
/// and after the MLP block of every transformer block; Up starts at zero.
public struct HoulsbyAdapter: PEFTMethod {
    public struct Config: MethodConfig {
        public var bottleneck = 16
        public var activation = BottleneckActivation.gelu
        public var blocks = ["attn", "mlp"]
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case bottleneck, activation, blocks, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.bottleneck, \.bottleneck), (.activation, \.activation), (.blocks, \.blocks),
                                  (.head, \.head))
            try read.require(bottleneck > 0, .bottleneck, "bottleneck must be positive")
            try read.require(!blocks.isEmpty && Set(blocks).isSubset(of: ["attn", "mlp"]), .blocks, "blocks: attn and/or mlp")
        }
    }

    public static let name = "adapter"
    public static let summary = "Adapter (Houlsby): serial bottlenecks after attention and MLP blocks"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let blocks = try findBlocks(Set(config.blocks), in: model, method: Self.name)
        let adaptation = Adaptation(method: Self.name, model: model, head: config.head)
        for (name, block) in blocks {
            let bottleneck = Bottleneck(input: block.width, output: block.width, width: config.bottleneck, bias: true,
                                        activation: config.activation, scaling: 1,
                                        names: ("adapter_down", "adapter_up"), rng: &rng)
            try adaptation.attach(BlockBottleneckAdapter(bottleneck, placement: .serial), to: block, named: name)
        }
        return adaptation
    }
}
