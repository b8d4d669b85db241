import Backbones
import Tensors

/// Every parameter trains (the papers' "Full").
public struct FullFineTuning: PEFTMethod {
    public static let name = "full"
    public static let summary = "full fine-tuning: every parameter trains"
    public let config: NoOptions
    public init(config: NoOptions) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let adaptation = Adaptation(method: Self.name, model: model, head: .none)
        adaptation.trainBackboneParameters { _ in true }
        return adaptation
    }
}

/// Only the 1×1×1 output convolution trains.
public struct LinearProbe: PEFTMethod {
    public static let name = "linear_probe"
    public static let summary = "linear probe: only the output convolution trains"
    public let config: NoOptions
    public init(config: NoOptions) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        Adaptation(method: Self.name, model: model, head: .out)
    }
}

/// The encoder is frozen; the decoder and output block train (what "linear" means in some of the
/// papers' comparisons).
public struct DecoderOnly: PEFTMethod {
    public static let name = "decoder_only"
    public static let summary = "decoder only: encoder frozen, decoder and output block train"
    public let config: NoOptions
    public init(config: NoOptions) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        Adaptation(method: Self.name, model: model, head: .decoder)
    }
}
