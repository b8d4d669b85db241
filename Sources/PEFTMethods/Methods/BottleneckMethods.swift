import Backbones
import ConfigDecoding
import Tensors

/// The options shared by the Parallel, Sequential and CPS baselines of the HyPS figure. The branch's
/// scale s is `scaling`, or `scaling / bottleneck` with `scale_by_width` (HyPS's s = scaling/d, which
/// with d = 8 is the 1/8 of the released CPS code).
public struct BottleneckConfig: TargetedConfig {
    public var bottleneck = 8
    public var scaling = 1.0
    public var scaleByWidth = false
    public var targets = defaultLinearTargets
    public var exclude: TargetPattern?
    public var head = HeadOption.decoder
    public init() {}

    enum CodingKeys: String, TargetOptionKeys {
        case bottleneck, scaling, scaleByWidth = "scale_by_width", targets, exclude, head
    }
    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        bottleneck = try read(.bottleneck, bottleneck)
        scaling = try read(.scaling, scaling)
        scaleByWidth = try read(.scaleByWidth, scaleByWidth)
        try read.readTargetOptions(into: &self)
        try read.require(bottleneck > 0, .bottleneck, "bottleneck must be positive")
    }

    /// Writes `scale_by_width` only when set, so the cell keys of existing specs do not change.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bottleneck, forKey: .bottleneck)
        try container.encode(scaling, forKey: .scaling)
        if scaleByWidth { try container.encode(scaleByWidth, forKey: .scaleByWidth) }
        try container.encode(targets, forKey: .targets)
        try container.encodeIfPresent(exclude, forKey: .exclude)
        try container.encode(head, forKey: .head)
    }

    /// The factor s in front of each bottleneck branch.
    public var branchScale: Float { Float(scaleByWidth ? scaling / Double(bottleneck) : scaling) }
}

/// Attaches bottlenecks in parallel (on a layer's input) and/or in series (on its output).
private func applyBottlenecks(_ config: BottleneckConfig, parallel: Bool, serial: Bool, method: String,
                              to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
    let (adaptation, layers) = try Adaptation.opening(method, on: model, config: config, as: Linear.self)
    let s = config.branchScale
    for (name, layer) in layers {
        let p = parallel ? Bottleneck(input: layer.inFeatures, output: layer.outFeatures, width: config.bottleneck, bias: false,
                                      activation: .relu, scaling: s, names: ("parallel_down", "parallel_up"), rng: &rng) : nil
        let q = serial ? Bottleneck(input: layer.outFeatures, output: layer.outFeatures, width: config.bottleneck, bias: false,
                                    activation: .relu, scaling: s, names: ("serial_down", "serial_up"), rng: &rng) : nil
        try adaptation.attach(LinearAdapterStack(parallel: p, serial: q), to: layer, named: name)
    }
    return adaptation
}

/// Parallel adapter: h = W x + b + s·Up(ReLU(Down(x))).
public struct ParallelAdapter: PEFTMethod {
    public static let name = "parallel"
    public static let summary = "Parallel: a bottleneck beside each projection"
    public let config: BottleneckConfig
    public init(config: BottleneckConfig) { self.config = config }
    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        try applyBottlenecks(config, parallel: true, serial: false, method: Self.name, to: model, rng: &rng)
    }
}

/// Sequential adapter: y = h + s·Up(ReLU(Down(h))) on each projection's output h.
public struct SequentialAdapter: PEFTMethod {
    public static let name = "sequential"
    public static let summary = "Sequential: a bottleneck after each projection"
    public let config: BottleneckConfig
    public init(config: BottleneckConfig) { self.config = config }
    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        try applyBottlenecks(config, parallel: false, serial: true, method: Self.name, to: model, rng: &rng)
    }
}

/// CPS: the parallel and the sequential bottleneck together.
public struct CPSAdapter: PEFTMethod {
    public static let name = "cps"
    public static let summary = "CPS: parallel and sequential bottlenecks on each projection"
    public let config: BottleneckConfig
    public init(config: BottleneckConfig) { self.config = config }
    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        try applyBottlenecks(config, parallel: true, serial: true, method: Self.name, to: model, rng: &rng)
    }
}
