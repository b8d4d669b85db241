import Backbones
import ConfigDecoding
import Tensors

/// LoRA-PT (arXiv 2407.11292), paper variant: the transformer's weights are stacked into third-order
/// tensors — per block [out_proj, q, k, v] (𝒲_sa), mlp.linear1 (𝒲_up) and mlp.linear2 (𝒲_down),
/// grouped by shape — and split by t-SVD into a trainable principal part 𝒰_p * 𝒮_p * 𝒱_pᵀ (top r
/// triplets of every Fourier slice) and a frozen residual, written in place into the base weights.
/// Every forward pass rebuilds 𝒲 = 𝒲_res + 𝒰_p * 𝒮_p * 𝒱_pᵀ differentiably. Trainable per tensor:
/// (n1 + n2 + 1)·r·n3, plus the head.
///
/// Released variant (the authors' scripts): the factors never enter the optimizer nor the forward pass
/// (the rebuilt weights are written through `.data`), so the encoder stays as pre-trained and only
/// decoder2..5 (not `out`) train; any other `head` is refused.
public struct LoRAPT: PEFTMethod {
    public struct Config: MethodConfig {
        public var rank = 1
        public var variant = Variant.paper
        public var head = HeadOption.decoder
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case rank, variant, head }
        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.rank, \.rank), (.variant, \.variant), (.head, \.head))
            try read.require(rank > 0, .rank, "rank must be positive")
            try read.require(variant == .paper || head == .decoder, .head, Self.releasedHeadMessage)
        }

        /// The released scripts train decoder2..5 and nothing else, so no other head can be honoured.
        static let releasedHeadMessage = "variant released trains what the authors' script trains (decoder2..5, not out); "
            + "remove 'head' or use variant paper"
    }

    public static let name = "lora_pt"
    public static let summary = "LoRA-PT: t-SVD of the stacked transformer weights, principal factors train"
    public let config: Config
    public init(config: Config) { self.config = config }

    public func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation {
        let groups = try stackedWeightGroups(in: model)
        for group in groups where config.rank > min(group.rows, group.columns) {
            throw PEFTError.invalidConfiguration(method: Self.name, message: "rank \(config.rank) exceeds \(group.rows)×\(group.columns)")
        }
        if config.variant == .released && config.head != .decoder {
            throw PEFTError.invalidConfiguration(method: Self.name, message: "head \(config.head.rawValue): " + Config.releasedHeadMessage)
        }
        // The released scripts train decoder2..5 but not `out`, which no `head` option names.
        let adaptation = Adaptation(method: Self.name, model: model, head: config.variant == .released ? .none : config.head)
        switch config.variant {
        case .released:
            let trained = model.decoderModuleNames.filter { $0 != model.outModuleName }
            adaptation.trainBackboneParameters { name in trained.contains { name.hasPrefix($0 + ".") } }
            for group in groups {
                let stacked = group.stacked()
                let factors = try truncatedTensorSVD(stacked, rank: config.rank)
                withoutGrad {
                    let principal = tProduct(u: factors.u, s: factors.s, v: factors.v)
                    group.write((stacked - principal) + principal)
                }
            }
        case .paper:
            let factors = FactorStore()
            var adapters: [(TensorGroup, [StackedSliceAdapter])] = []
            for group in groups {
                let stacked = group.stacked()
                let t = try truncatedTensorSVD(stacked, rank: config.rank)
                let (u, s, v) = (Parameter(t.u), Parameter(t.s), Parameter(t.v))
                factors.entries += [("\(group.name).U", u), ("\(group.name).S", s), ("\(group.name).V", v)]
                // The base weights become the frozen residual: in place, once, here.
                withoutGrad { group.write(stacked - tProduct(u: u.value, s: s.value, v: v.value)) }
                let groupAdapters = group.layers.map { _ in StackedSliceAdapter() }
                for (layer, adapter) in zip(group.layers, groupAdapters) { layer.layer.adapter = adapter }
                adapters.append((group, groupAdapters))
                for layer in group.layers {
                    adaptation.adapted.append(AdaptedModule(name: layer.name, type: "Linear", trainableParameters: 0))
                }
                let count = (group.rows + group.columns + 1) * config.rank * group.slices
                adaptation.adapted.append(AdaptedModule(name: "lora_pt.\(group.name)", type: "TSVDFactors", trainableParameters: count))
                adaptation.addMerger { [weak model] in
                    let principal = tProduct(u: u.value, s: s.value, v: v.value)
                    group.write(group.stacked() + principal)
                    for layer in group.layers { layer.layer.adapter = nil }
                    model?.hooks.remove("lora_pt")
                    model?.attachments.removeAll { $0.0 == "lora_pt" }
                }
                group.factors = (u, s, v)
            }
            model.attachments.append(("lora_pt", factors))
            // Rebuild the principal parts once per forward pass and hand each layer its slices.
            model.hooks.add("lora_pt") {
                for (group, groupAdapters) in adapters {
                    guard let (u, s, v) = group.factors else { continue }
                    let principal = tProduct(u: u.value, s: s.value, v: v.value)
                    for (layer, adapter) in zip(group.layers, groupAdapters) {
                        let slices = layer.slices.map { principal.slice(axis: 0, $0..<($0 + 1)).reshaped([group.rows, group.columns]) }
                        adapter.delta = slices.count == 1 ? slices[0] : Tensor.concatenate(slices, axis: 0)
                    }
                }
            }
        }
        return adaptation
    }
}

/// The trained factors, attached to the backbone as `lora_pt.<group>.{U,S,V}`.
final class FactorStore: Module {
    var entries: [(String, Parameter)] = []
    override var parameters: [(String, Parameter)] { entries }
}

/// A Linear layer whose weight is its frozen residual plus the principal slices rebuilt this pass.
final class StackedSliceAdapter: LinearAdapter {
    var delta: Tensor?
    var children: [(String, Module)] { [] }
    var parameters: [(String, Parameter)] { [] }

    func output(_ x: Tensor, layer: Linear) -> Tensor {
        guard let delta else { return layer.baseOutput(x) }
        return linear(x, weight: layer.weight.value + delta, bias: layer.bias?.value)
    }
}

/// Same-shaped weight matrices stacked as frontal slices, and where each slice lives in which layer.
package final class TensorGroup {
    struct Member {
        let name: String
        let layer: Linear
        /// Slice indices held by this layer, stacked along its rows (qkv holds q, k, v).
        let slices: [Int]
    }
    package let name: String
    let rows: Int, columns: Int
    private(set) var layers: [Member] = []
    var slices: Int { layers.reduce(0) { $0 + $1.slices.count } }
    var factors: (Parameter, Parameter, Parameter)?

    init(name: String, rows: Int, columns: Int) {
        (self.name, self.rows, self.columns) = (name, rows, columns)
    }

    func add(_ name: String, _ layer: Linear, sliceCount: Int) {
        let first = slices
        layers.append(Member(name: name, layer: layer, slices: Array(first..<(first + sliceCount))))
    }

    /// The current base weights as [n3, n1, n2].
    package func stacked() -> Tensor {
        let size = rows * columns
        let result = Tensor(uninitialized: [slices, rows, columns])
        for member in layers {
            for (i, slice) in member.slices.enumerated() {
                (result.pointer + slice * size).update(from: member.layer.weight.value.pointer + i * size, count: size)
            }
        }
        return result
    }

    /// Writes [n3, n1, n2] back into the base weights.
    func write(_ tensor: Tensor) {
        let size = rows * columns
        for member in layers {
            let weight = member.layer.weight.value.detached()
            for (i, slice) in member.slices.enumerated() {
                (weight.pointer + i * size).update(from: tensor.pointer + slice * size, count: size)
            }
            member.layer.weight.assign(weight)
        }
    }
}

/// Per transformer block: 𝒲_sa gets [out_proj (or proj), q, k, v], 𝒲_up linear1, 𝒲_down linear2;
/// blocks of equal width share a group.
package func stackedWeightGroups(in model: any Backbone) throws -> [TensorGroup] {
    let modules = Dictionary(model.namedModules(), uniquingKeysWith: { a, _ in a })
    let encoder = model.encoderModuleName + "."
    let blocks = model.namedModules().map(\.0).filter { $0.hasPrefix(encoder) && $0.hasSuffix(".attn.qkv") }
        .map { String($0.dropLast(".attn.qkv".count)) }
    guard !blocks.isEmpty else {
        throw PEFTError.noMatchingModules(method: LoRAPT.name, pattern: "*.attn.qkv", nearby: [])
    }
    var groups: [String: TensorGroup] = [:]
    var order: [String] = []
    func group(_ name: String, rows: Int, columns: Int) -> TensorGroup {
        if let existing = groups[name] { return existing }
        order.append(name)
        let created = TensorGroup(name: name, rows: rows, columns: columns)
        groups[name] = created
        return created
    }
    func linear(_ name: String) throws -> Linear {
        guard let layer = modules[name] as? Linear else {
            throw PEFTError.noMatchingModules(method: LoRAPT.name, pattern: name, nearby: [])
        }
        return layer
    }
    for block in blocks {
        let qkv = try linear(block + ".attn.qkv")
        let outName = modules[block + ".attn.out_proj"] != nil ? block + ".attn.out_proj" : block + ".attn.proj"
        let out = try linear(outName)
        let up = try linear(block + ".mlp.linear1"), down = try linear(block + ".mlp.linear2")
        let width = out.outFeatures
        let sa = group("sa_\(width)", rows: width, columns: width)
        sa.add(outName, out, sliceCount: 1)
        sa.add(block + ".attn.qkv", qkv, sliceCount: 3)
        group("up_\(up.outFeatures)x\(width)", rows: up.outFeatures, columns: width).add(block + ".mlp.linear1", up, sliceCount: 1)
        group("down_\(width)x\(down.inFeatures)", rows: width, columns: down.inFeatures).add(block + ".mlp.linear2", down, sliceCount: 1)
    }
    return order.map { groups[$0]! }
}
