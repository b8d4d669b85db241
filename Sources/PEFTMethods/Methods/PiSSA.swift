import Backbones
import ConfigDecoding
import Tensors

/// PiSSA (Meng et al. 2024): the principal r singular triplets of W become the trainable factors
/// (lora_B = U_r S_r^½, lora_A = S_r^½ V_rᵀ) and the rest, W_res = W − B·A, stays frozen.
public struct PiSSA: PEFTMethod {
    public struct Config: TargetedConfig {
        public var rank = 8
        public var targets = defaultLinearTargets
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, TargetOptionKeys { case rank, targets, exclude, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            rank = try read(.rank, rank)
            try read.readTargetOptions(into: &self)
            try read.require(rank > 0, .rank, "rank must be positive")
        }
    }

    public static let name = "pissa"
    public static let summary = "PiSSA: train the principal singular part of each weight, freeze the residual"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        for (name, layer) in layers {
            let branch = try principalBranch(of: layer, rank: config.rank, names: ("lora_A", "lora_B"), method: Self.name)
            try adaptation.attach(LinearAdapterStack(lowRank: branch), to: layer, named: name)
        }
        return adaptation
    }
}

/// Splits `layer.weight` by SVD into a trainable principal branch (returned) and the frozen residual,
/// which replaces the base weight in place: W_res + B·A = W.
package func principalBranch(of layer: Linear, rank: Int, names: (a: String, b: String), method: String) throws -> LowRankBranch {
    let m = layer.outFeatures, n = layer.inFeatures
    guard rank <= min(m, n) else {
        throw PEFTError.invalidConfiguration(method: method, message: "rank \(rank) exceeds min(\(m), \(n)) of a \(m)×\(n) weight")
    }
    let svd = try singularValueDecomposition(layer.weight.value)
    let roots = svd.s.prefix(rank).map { $0.squareRoot() }
    let b = Tensor(uninitialized: [m, rank]), a = Tensor(uninitialized: [rank, n])
    for i in 0..<m { for j in 0..<rank { b.pointer[i * rank + j] = svd.u.pointer[i * min(m, n) + j] * roots[j] } }
    for j in 0..<rank { for k in 0..<n { a.pointer[j * n + k] = roots[j] * svd.vt.pointer[j * n + k] } }
    let branch = LowRankBranch(a: a, b: b, scaling: 1, dropout: 0, seed: 0, names: names)
    // The base weight becomes the frozen residual: in place, once, here.
    withoutGrad { layer.weight.assign(layer.weight.value - matmul(b, a)) }
    return branch
}
