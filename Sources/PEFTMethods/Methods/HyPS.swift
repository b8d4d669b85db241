import Backbones
import ConfigDecoding
import Tensors

/// HyPS (arXiv 2409.00884), paper variant: for every linear layer of the transformer encoder, SVD
/// W = U S Vᵀ; the principal part A = U_r S_r^½, B = S_r^½ V_rᵀ trains and W_res stays frozen
/// (h = W_res x + A B x + b); then a serial bottleneck y = h + s·Up(ReLU(Down(h))) with Down
/// Kaiming-uniform, Up zero and s = scaling/d. Trainable per layer: r(m + n) + 2dm, plus the head.
///
/// Released variant (the authors' `train_HyPS.py`): no checkpoint is ever loaded, so the whole
/// network starts from its random initialisation; the principal part is frozen, and the serial
/// adapter is h + s·(h A_r)·relu(A_l) with A_l = 0, so relu'(0) = 0 keeps it dead forever: only the
/// head learns.
public struct HyPS: PEFTMethod {
    public struct Config: TargetedConfig {
        public var rank = 2
        public var adapterWidth = 2
        public var scaling = 1.0
        public var variant = Variant.paper
        public var targets = TargetPattern.regex(".*")
        public var exclude: TargetPattern?
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, TargetOptionKeys {
            case rank, adapterWidth = "adapter_width", scaling, variant, targets, exclude, head
        }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.rank, \.rank), (.adapterWidth, \.adapterWidth), (.scaling, \.scaling),
                                  (.variant, \.variant))
            try read.readTargetOptions(into: &self)
            try read.require(rank > 0, .rank, "rank must be positive")
            try read.require(adapterWidth > 0, .adapterWidth, "adapter_width must be positive")
        }
    }

    public static let name = "hyps"
    public static let summary = "HyPS: trainable SVD principal part plus a serial bottleneck on every encoder linear layer"
    public let config: Config
    public init(config: Config) { self.config = config }
    /// The released variant starts from a re-randomised network, not from the pre-trained function.
    public var startsAsIdentity: Bool { config.variant == .paper }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let (adaptation, layers) = try Adaptation.opening(Self.name, on: model, config: config, as: Linear.self)
        // Values only: the counts, names and frozen flags taken by the opening stay as they are.
        if config.variant == .released { try randomizeBackbone(model, rng: &rng) }
        let d = config.adapterWidth
        for (name, layer) in layers {
            switch config.variant {
            case .paper:
                let principal = try principalBranch(of: layer, rank: config.rank, names: ("hyps_B", "hyps_A"), method: Self.name)
                let serial = Bottleneck(input: layer.outFeatures, output: layer.outFeatures, width: d, bias: false,
                                        activation: .relu, scaling: Float(config.scaling / Double(d)),
                                        names: ("hyps_down", "hyps_up"), rng: &rng)
                try adaptation.attach(LinearAdapterStack(lowRank: principal, serial: serial), to: layer, named: name)
            case .released:
                let adapter = DeadSerialAdapter(features: layer.outFeatures, width: d, scaling: Float(config.scaling / Double(d)), rng: &rng)
                try adaptation.attach(adapter, to: layer, named: name)
                adaptation.deadParameters += ["\(name).hyps_A_r", "\(name).hyps_A_l"]
            }
        }
        return adaptation
    }

    /// The released script loads no checkpoint at all: every backbone parameter (encoder, the
    /// convolutional encoder blocks, the decoder and `out`) gets a fresh seeded initialisation.
    private func randomizeBackbone(_ model: any Backbone, rng: inout RandomGenerator) throws {
        let fresh = Dictionary(try makeBackbone(model.config, seed: rng.next()).namedParameters(),
                               uniquingKeysWith: { a, _ in a })
        for (name, parameter) in model.namedParameters() {
            guard let value = fresh[name]?.value else {
                throw PEFTError.invalidConfiguration(method: Self.name, message: "released: no fresh initialisation for '\(name)'")
            }
            parameter.assign(value)
        }
    }
}

/// The released HyPS serial adapter: y = h + s·(h A_r)·relu(A_l) with A_l = 0. The gradient of A_l is
/// relu'(0) = 0 and that of A_r is multiplied by relu(A_l) = 0, so neither ever moves by its gradient.
final class DeadSerialAdapter: LinearAdapter {
    let right: Parameter, left: Parameter
    let scaling: Float

    init(features: Int, width: Int, scaling: Float, rng: inout RandomGenerator) {
        right = Parameter(.kaimingUniform([features, width], fanIn: features, using: &rng))
        left = Parameter(Tensor(zeros: [width, features]))
        self.scaling = scaling
    }

    var children: [(String, Module)] { [] }
    var parameters: [(String, Parameter)] { [("hyps_A_r", right), ("hyps_A_l", left)] }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        let h = layer.baseOutput(x)
        return h + matmul(matmul(h, right.value), relu(left.value)) * scaling
    }
}
