import Backbones
import ConfigDecoding
import Tensors

/// BitFit (Ben Zaken et al. 2022): every bias trains, plus the head.
public struct BitFit: PEFTMethod {
    public struct Config: MethodConfig {
        public var head = HeadOption.decoder
        public init() {}
        enum CodingKeys: String, CodingKey, CaseIterable { case head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            head = try read(.head, head)
        }
    }

    public static let name = "bitfit"
    public static let summary = "BitFit: all biases and the head train"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let adaptation = Adaptation(method: Self.name, model: model, head: config.head)
        adaptation.trainBackboneParameters { $0.hasSuffix(".bias") }
        return adaptation
    }
}
