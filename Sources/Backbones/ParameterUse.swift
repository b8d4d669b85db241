import Foundation
import Tensors

/// Which backbone parameters the forward pass reads. MONAI keeps some layers it never calls (UNETR's
/// `norm_cross_attn`, added in MONAI 1.4 for a cross-attention UNETR does not use); the papers ran
/// MONAI 1.3, which had none, so their counts are of the parameters the forward pass uses.
///
/// Decided from the network itself, not from a list of names: a probe with the same modules (so the
/// same parameter names) but the smallest widths and input runs forward and backward once with every
/// parameter trainable; a parameter the graph never reached has no gradient.
public struct ParameterUse: Sendable {
    /// Every parameter name of the network (to check the probe against the real one).
    public let names: Set<String>
    /// The parameters the forward pass never reads.
    public let unused: Set<String>

    nonisolated(unsafe) private static var cache: [Data: ParameterUse] = [:]
    private static let lock = NSLock()

    /// The use of `config`'s parameters, cached per configuration.
    public static func of(_ config: BackboneConfig) throws -> ParameterUse {
        let key = try JSONEncoder().encode(config)
        if let known = lock.withLock({ cache[key] }) { return known }
        let (probe, size) = try makeProbe(config)
        probe.unfreeze()
        var rng = RandomGenerator(seed: 0, stream: "parameter-use")
        let input = Tensor.normal([1, config.inChannels] + size, using: &rng)
        GradMode.$isEnabled.withValue(true) { probe(input).sum().backward() }
        let parameters = probe.namedParameters()
        let use = ParameterUse(names: Set(parameters.map(\.0)), unused: Set(parameters.filter { $0.1.grad == nil }.map(\.0)))
        lock.withLock { cache[key] = use }
        return use
    }

    /// The same network at the smallest widths and input its checks allow (names do not depend on
    /// widths); where the narrow widths are invalid for this configuration, its own widths.
    private static func makeProbe(_ config: BackboneConfig) throws -> (any Backbone, [Int]) {
        switch config {
        case .unetr(var args):
            // One 16³ patch: one token through every block and decoder.
            args.imgSize = [16, 16, 16]
            args.dropoutRate = 0
            var narrow = args
            (narrow.hiddenSize, narrow.mlpDim, narrow.featureSize) = (args.numHeads, 2, 2)
            let probe = try (try? makeBackbone(.unetr(narrow))) ?? makeBackbone(.unetr(args))
            return (probe, args.imgSize)
        case .swinunetr(var args):
            // 32³ is the smallest input SwinUNETR takes (a 1-voxel deepest stage).
            (args.dropRate, args.attnDropRate, args.dropoutPathRate) = (0, 0, 0)
            var narrow = args
            narrow.featureSize = 12
            let probe = try (try? makeBackbone(.swinunetr(narrow))) ?? makeBackbone(.swinunetr(args))
            return (probe, [32, 32, 32])
        }
    }
}
