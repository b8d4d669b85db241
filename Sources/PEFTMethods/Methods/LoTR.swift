import Backbones
import ConfigDecoding
import Tensors

/// Factors A [m, r] and B [n, r] shared by every adapted layer of one shape and role.
final class SharedFactors: Module {
    var entries: [(String, Parameter)] = []
    override var parameters: [(String, Parameter)] { entries }
}

/// ΔW_l x = s · A (G_l (Bᵀ x)) with A, B shared across the group and G_l this layer's own core.
final class LoTRAdapter: FoldableLinearAdapter {
    let a: Parameter, b: Parameter, core: Parameter
    let scaling: Float

    init(a: Parameter, b: Parameter, rank: Int, scaling: Float) {
        (self.a, self.b, self.scaling) = (a, b, scaling)
        core = Parameter(Tensor(zeros: [rank, rank]))
    }

    var children: [(String, Module)] { [] }
    var parameters: [(String, Parameter)] { [("lotr_G", core)] }

    func foldedWeight(base: Tensor) -> Tensor { base + deltaWeight() }

    func deltaWeight() -> Tensor { matmul(matmul(a.value, core.value), b.value, transposeB: true) * scaling }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        let projected = matmul(matmul(x, b.value), core.value, transposeB: true)
        return layer.baseOutput(x) + matmul(projected, a.value, transposeB: true) * scaling
    }
}

/// LoTR (Bershatsky et al. 2024): a Tucker-2 update per group of same-shaped layers,
/// ΔW_l = A G_l Bᵀ, A and B shared (orthonormal columns at initialisation), G_l zero.
public struct LoTR: PEFTMethod {
    public struct Config: TargetedConfig {
        public var rank = 8
        public var scaling = 1.0
        public var targets = defaultLinearTargets
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, TargetOptionKeys { case rank, scaling, targets, exclude, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.rank, \.rank), (.scaling, \.scaling))
            try read.readTargetOptions(into: &self)
            try read.require(rank > 0, .rank, "rank must be positive")
        }
    }

    public static let name = "lotr"
    public static let summary = "LoTR: shared low-rank factors with a small core per layer"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        let shared = SharedFactors()
        var groups: [String: (a: Parameter, b: Parameter)] = [:]
        let r = config.rank
        for (name, layer) in layers {
            let role = String(name.split(separator: ".").last!)
            let group = "\(role)_\(layer.outFeatures)x\(layer.inFeatures)"
            guard r <= min(layer.outFeatures, layer.inFeatures) else {
                throw PEFTError.invalidConfiguration(method: Self.name, message: "rank \(r) exceeds the size of \(name)")
            }
            var isNew = false
            if groups[group] == nil {
                groups[group] = (Parameter(try orthonormalColumns(layer.outFeatures, r, rng: &rng)),
                                 Parameter(try orthonormalColumns(layer.inFeatures, r, rng: &rng)))
                shared.entries += [("\(group).A", groups[group]!.a), ("\(group).B", groups[group]!.b)]
                isNew = true
            }
            let (a, b) = groups[group]!
            try adaptation.attach(LoTRAdapter(a: a, b: b, rank: r, scaling: Float(config.scaling)), to: layer, named: name,
                                  sharedParameters: isNew ? r * (layer.outFeatures + layer.inFeatures) : 0)
        }
        adaptation.attachShared(shared, named: "lotr")
        return adaptation
    }
}

/// A random [n, r] matrix with orthonormal columns (left singular vectors of a Gaussian matrix).
func orthonormalColumns(_ n: Int, _ r: Int, rng: inout RandomGenerator) throws -> Tensor {
    let svd = try singularValueDecomposition(.normal([n, r], using: &rng))
    return svd.u
}
