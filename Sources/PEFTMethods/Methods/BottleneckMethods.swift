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
        try read(into: &self, (.bottleneck, \.bottleneck), (.scaling, \.scaling), (.scaleByWidth, \.scaleByWidth))
        try read.readTargetOptions(into: &self)
        try read.require(bottleneck > 0, .bottleneck, "bottleneck must be positive")
    }

    /// Writes `scale_by_width` only when set, so the cell keys of existing specs do not change.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self, (.bottleneck, \.bottleneck), (.scaling, \.scaling))
        if scaleByWidth { try container.encode(scaleByWidth, forKey: .scaleByWidth) }
        try container.encode(targets, forKey: .targets)
        try container.encodeIfPresent(exclude, forKey: .exclude)
        try container.encode(head, forKey: .head)
    }

    /// The factor s in front of each bottleneck branch.
    public var branchScale: Float { Float(scaleByWidth ? scaling / Double(bottleneck) : scaling) }
}

/// Where a baseline of the HyPS figure puts its bottleneck: on a layer's input (parallel), on its
/// output (serial), or both. The baselines differ in nothing else, so they are one method type.
public protocol BottleneckPlacement: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var parallel: Bool { get }
    static var serial: Bool { get }
}

/// Bottlenecks Up(ReLU(Down(·))) scaled by s beside and/or after each targeted projection.
public struct BottleneckBaseline<Placement: BottleneckPlacement>: PEFTMethod {
    public static var name: String { Placement.name }
    public static var summary: String { Placement.summary }
    public let config: BottleneckConfig
    public init(config: BottleneckConfig) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        let s = config.branchScale
        for (name, layer) in layers {
            let p = Placement.parallel ? Bottleneck(input: layer.inFeatures, output: layer.outFeatures, width: config.bottleneck,
                                                    bias: false, activation: .relu, scaling: s,
                                                    names: ("parallel_down", "parallel_up"), rng: &rng) : nil
            let q = Placement.serial ? Bottleneck(input: layer.outFeatures, output: layer.outFeatures, width: config.bottleneck,
                                                  bias: false, activation: .relu, scaling: s,
                                                  names: ("serial_down", "serial_up"), rng: &rng) : nil
            try adaptation.attach(LinearAdapterStack(parallel: p, serial: q), to: layer, named: name)
        }
        return adaptation
    }
}

/// Parallel adapter: h = W x + b + s·Up(ReLU(Down(x))).
public typealias ParallelAdapter = BottleneckBaseline<ParallelPlacement>
public enum ParallelPlacement: BottleneckPlacement {
    public static let (name, parallel, serial) = ("parallel", true, false)
    public static let summary = "Parallel: a bottleneck beside each projection"
}

/// Sequential adapter: y = h + s·Up(ReLU(Down(h))) on each projection's output h.
public typealias SequentialAdapter = BottleneckBaseline<SequentialPlacement>
public enum SequentialPlacement: BottleneckPlacement {
    public static let (name, parallel, serial) = ("sequential", false, true)
    public static let summary = "Sequential: a bottleneck after each projection"
}

/// CPS: the parallel and the sequential bottleneck together.
public typealias CPSAdapter = BottleneckBaseline<CPSPlacement>
public enum CPSPlacement: BottleneckPlacement {
    public static let (name, parallel, serial) = ("cps", true, true)
    public static let summary = "CPS: parallel and sequential bottlenecks on each projection"
}
