import Backbones
import PEFTMethods
import Tensors

/// What each method should train, worked out here from the backbone's parameter names and shapes and
/// from METHODS.md — never from a method's flags, its target matcher or `Backbone.decoderModuleNames` —
/// so a method that trains one parameter too many or too few disagrees with it.
struct ExpectedTrainables {
    /// The backbone's parameter names with their shapes, before adaptation.
    let shapes: [String: [Int]]
    let kind: String

    init(_ model: any Backbone) {
        shapes = Dictionary(model.namedParameters().map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
        kind = model.config.kind
    }

    var names: Set<String> { Set(shapes.keys) }

    /// METHODS.md: the decoder is UNETR decoder2..5 + out, SwinUNETR decoder1..5 + out.
    var decoderModules: [String] {
        kind == "unetr" ? ["decoder2", "decoder3", "decoder4", "decoder5", "out"]
            : ["decoder1", "decoder2", "decoder3", "decoder4", "decoder5", "out"]
    }
    var encoderPrefix: String { kind == "unetr" ? "vit." : "swinViT." }

    func under(_ modules: [String]) -> Set<String> {
        names.filter { name in modules.contains { name.hasPrefix($0 + ".") } }
    }

    func head(_ option: HeadOption) -> Set<String> {
        switch option {
        case .decoder: under(decoderModules)
        case .out: under(["out"])
        case .none: []
        }
    }

    /// Modules owning a parameter named `leaf` with the given rank, in the encoder.
    private func encoderModules(leaf: String, rank: Int) -> [String] {
        shapes.filter { $0.key.hasPrefix(encoderPrefix) && $0.key.hasSuffix("." + leaf) && $0.value.count == rank }
            .map { String($0.key.dropLast(leaf.count + 1)) }.sorted()
    }

    /// Every linear layer of the encoder: a 2-D `weight` (convolutions are 5-D, norms 1-D).
    var encoderLinears: [String] { encoderModules(leaf: "weight", rank: 2) }
    /// Every LayerNorm of the encoder: a 1-D `weight`.
    var encoderNorms: [String] { encoderModules(leaf: "weight", rank: 1) }
    /// The transformer blocks' projections (METHODS.md's default targets).
    var projections: [String] {
        encoderLinears.filter { name in [".qkv", ".out_proj", ".attn.proj", ".linear1", ".linear2"].contains { name.hasSuffix($0) } }
    }
    /// Attention sub-blocks own the qkv projection; MLP sub-blocks own linear1.
    var attentionBlocks: [String] { encoderLinears.filter { $0.hasSuffix(".qkv") }.map { String($0.dropLast(4)) } }
    var mlpBlocks: [String] { encoderLinears.filter { $0.hasSuffix(".linear1") }.map { String($0.dropLast(8)) } }

    /// `module.leaf` for every module and leaf.
    func attached(_ modules: [String], _ leaves: [String]) -> Set<String> {
        Set(modules.flatMap { module in leaves.map { "\(module).\($0)" } })
    }

    /// METHODS.md's trainable set of `method` with the `head` option (where the method has one); nil
    /// for a method no expectation has been written for.
    func trainable(_ method: String, head: HeadOption, variant: Variant = .paper) -> Set<String>? {
        switch method {
        case "full": return names
        case "linear_probe": return self.head(.out)
        case "decoder_only": return self.head(.decoder)
        default: break
        }
        let own: Set<String>
        switch method {
        case "bitfit": own = names.filter { $0.hasSuffix(".bias") }
        case "lora", "pissa": own = attached(projections, ["lora_A.weight", "lora_B.weight"])
        case "dora": own = attached(projections, ["lora_A.weight", "lora_B.weight", "lora_magnitude_vector"])
        case "adapter":
            own = attached(attentionBlocks + mlpBlocks, ["adapter_down.weight", "adapter_down.bias", "adapter_up.weight", "adapter_up.bias"])
        case "adaptformer":
            own = attached(mlpBlocks, ["adaptmlp_down.weight", "adaptmlp_down.bias", "adaptmlp_up.weight", "adaptmlp_up.bias"])
        case "ssf": own = attached(encoderLinears + encoderNorms, ["ssf_scale", "ssf_shift"])
        case "lotr":
            // Per layer a core; per role and shape (qkv_72x24, …) a shared pair A, B.
            let groups = projections.map { name in
                "lotr.\(name.split(separator: ".").last!)_\(shapes[name + ".weight"]![0])x\(shapes[name + ".weight"]![1])"
            }
            own = attached(projections, ["lotr_G"]).union(attached(groups, ["A", "B"]))
        case "parallel": own = attached(projections, ["parallel_down.weight", "parallel_up.weight"])
        case "sequential": own = attached(projections, ["serial_down.weight", "serial_up.weight"])
        case "cps": own = attached(projections, ["parallel_down.weight", "parallel_up.weight", "serial_down.weight", "serial_up.weight"])
        case "hyps" where variant == .paper:
            own = attached(encoderLinears, ["hyps_A.weight", "hyps_B.weight", "hyps_down.weight", "hyps_up.weight"])
        case "hyps": own = attached(encoderLinears, ["hyps_A_r", "hyps_A_l"])
        case "lora_pt" where variant == .paper:
            // One 𝒲_sa per attention width ([out_proj, q, k, v] slices), one 𝒲_up and one 𝒲_down.
            let groups = attentionBlocks.flatMap { block -> [String] in
                let width = shapes[block + ".qkv.weight"]![1]
                let up = shapes[String(block.dropLast(4)) + "mlp.linear1.weight"]!
                return ["lora_pt.sa_\(width)", "lora_pt.up_\(up[0])x\(width)", "lora_pt.down_\(width)x\(up[0])"]
            }
            own = attached(groups, ["U", "S", "V"])
        case "lora_pt":
            // The released scripts train decoder2..5, never `out` (METHODS.md).
            return under(decoderModules.filter { $0 != "out" })
        default: return nil
        }
        return own.union(self.head(head))
    }

    /// Parameters the forward pass never reads (MONAI ≥ 1.4 keeps UNETR's `norm_cross_attn`); what a
    /// method attaches to those modules is never read either.
    func neverRead(_ name: String) -> Bool { kind == "unetr" && name.contains(".norm_cross_attn.") }
}
