import Backbones
import PEFTMethods
import Tensors
import XCTest

/// Proves what trains: for every registered method, every `head` option and both backbones, the
/// optimizer gets exactly the parameters `ExpectedTrainables` derives from METHODS.md, every one of
/// them moves in one optimizer step, and every other parameter stays bit-identical.
final class TrainableSetTests: XCTestCase {
    /// METHODS.md: the baselines without options; every other method takes `head`.
    private let withoutOptions: Set = ["full", "linear_probe", "decoder_only"]

    /// Each registered method with each head option it takes, and the released variants.
    private func cases() throws -> [(label: String, name: String, head: HeadOption, variant: Variant, method: any PEFTMethod)] {
        var result: [(String, String, HeadOption, Variant, any PEFTMethod)] = []
        for name in MethodRegistry.names {
            guard !withoutOptions.contains(name) else {
                result.append((name, name, .decoder, .paper, try MethodRegistry.method(named: name)))
                continue
            }
            for head in HeadOption.allCases {
                var options: [String: Any] = ["head": head.rawValue]
                // HyPS's d = 2 ReLU bottleneck can be negative on every token of a tiny model (then, as
                // the method defines, nothing reaches Up or Down); a wider one keeps the same targets.
                if name == HyPS.name { options["adapter_width"] = 16 }
                result.append(("\(name) head \(head)", name, head, .paper, try makeMethod(name, options)))
            }
        }
        for head in HeadOption.allCases {
            result.append(("hyps/released head \(head)", "hyps", head, .released,
                           try makeMethod("hyps", ["head": head.rawValue, "variant": "released"])))
        }
        result.append(("lora_pt/released", "lora_pt", .decoder, .released, try makeMethod("lora_pt", ["variant": "released"])))
        return result
    }

    func testExactlyTheExpectedParametersTrainOnUNETR() throws { try checkTrainableSets(on: .unetr) }
    func testExactlyTheExpectedParametersTrainOnSwinUNETR() throws { try checkTrainableSets(on: .swinunetr) }

    private func checkTrainableSets(on backbone: TinyBackbone) throws {
        let (image, label) = backbone.task()
        for (caseLabel, name, head, variant, method) in try cases() {
            let model = try backbone.make()
            let expected = ExpectedTrainables(model)
            var rng = RandomGenerator(seed: 5)
            let adaptation = try method.apply(to: model, rng: &rng)
            guard let want = expected.trainable(name, head: head, variant: variant) else {
                XCTFail("\(caseLabel): write its expected trainable set in ExpectedTrainables.trainable (from METHODS.md)")
                continue
            }
            let declared = Set(adaptation.trainableParameters.map(\.0))
            XCTAssertEqual(declared.subtracting(want).sorted(), [], "\(backbone) \(caseLabel): trains more than expected")
            XCTAssertEqual(want.subtracting(declared).sorted(), [], "\(backbone) \(caseLabel): trains less than expected")

            // Move every parameter off its initialisation: zero-initialised factors (LoRA's B, the
            // bottlenecks' Up, the released HyPS A_l) would otherwise block their partners' first gradient.
            var noise = RandomGenerator(seed: 9, stream: "off-init")
            for (_, p) in model.namedParameters() { p.assign(p.value + Tensor.normal(p.shape, std: 0.05, using: &noise)) }
            let before = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.values) })
            let outputBefore = withoutGrad { model(image) }
            let optimizer = Adam(adaptation.trainableParameters, learningRate: 1e-3)
            softmaxDiceLoss(logits: model(image), labels: label).backward()
            optimizer.step()
            let moved = Set(model.namedParameters().filter { $0.1.value.values != before[$0.0]! }.map(\.0))
            let shouldMove = want.filter { !expected.neverRead($0) }
            XCTAssertEqual(moved.subtracting(shouldMove).sorted(), [], "\(backbone) \(caseLabel): moved but should not")
            XCTAssertEqual(shouldMove.subtracting(moved).sorted(), [], "\(backbone) \(caseLabel): did not move")
            // With head none only the method's own parameters train: they must reach the output (a
            // scale on an activation the forward pass never uses moves, yet changes nothing).
            let outputAfter = withoutGrad { model(image) }
            if !moved.isEmpty {
                XCTAssertGreaterThan(maxRelativeDifference(outputAfter, outputBefore), 0,
                                     "\(backbone) \(caseLabel): one step moved parameters but not the output")
            }
        }
    }

    /// HyPS adapts all 36 linear layers of the paper's Swin encoder (depths 2, 2, 2, 2): 8 blocks ×
    /// qkv, attn.proj, linear1, linear2, plus the four patch-merging reductions.
    func testHyPSAdaptsThe36SwinLinears() throws {
        var config = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        (config.featureSize, config.depths, config.numHeads, config.windowSize) = (12, [2, 2, 2, 2], [3, 6, 12, 24], 4)
        var expected = Set<String>()
        for stage in 1...4 {
            for block in 0..<2 {
                let prefix = "swinViT.layers\(stage).0.blocks.\(block)."
                expected.formUnion(["attn.qkv", "attn.proj", "mlp.linear1", "mlp.linear2"].map { prefix + $0 })
            }
            expected.insert("swinViT.layers\(stage).0.downsample.reduction")
        }
        XCTAssertEqual(expected.count, 36)
        var rng = RandomGenerator(seed: 1)
        let hyps = try HyPS().apply(to: try makeBackbone(.swinunetr(config)), rng: &rng)
        XCTAssertEqual(Set(hyps.adapted.map(\.name)), expected)

    }

    /// LoRA-PT's 𝒲_sa stacks each block's slices as [out_proj, q, k, v]: a per-slice marker written
    /// into the weights comes back from the stacked tensor in that order.
    func testLoRAPTStacksOutProjThenQKV() throws {
        let model = try TinyBackbone.unetr.make()
        let modules = Dictionary(model.namedModules(), uniquingKeysWith: { a, _ in a })
        let h = 24
        for block in 0..<12 {
            let out = modules["vit.blocks.\(block).attn.out_proj"] as! Linear
            let qkv = modules["vit.blocks.\(block).attn.qkv"] as! Linear
            out.weight.assign(Tensor(Array(repeating: Float(block * 4), count: h * h), shape: [h, h]))
            let rows = (0..<3).flatMap { part in Array(repeating: Float(block * 4 + 1 + part), count: h * h) }
            qkv.weight.assign(Tensor(rows, shape: [3 * h, h]))
        }
        let sa = try XCTUnwrap(try stackedWeightGroups(in: model).first { $0.name == "sa_\(h)" }).stacked()
        XCTAssertEqual(sa.shape, [48, h, h])
        for slice in 0..<48 {
            let values = Set(sa.slice(axis: 0, slice..<(slice + 1)).values)
            XCTAssertEqual(values, [Float(slice)], "slice \(slice) is not block \(slice / 4)'s \(["out_proj", "q", "k", "v"][slice % 4])")
        }
    }

    func testLoRAPTReleasedRefusesAHeadItCannotHonour() throws {
        for head in ["out", "none"] {
            XCTAssertThrowsError(try makeMethod("lora_pt", ["variant": "released", "head": head])) { error in
                XCTAssert("\(error)".contains("variant released"), "\(error)")
            }
            var config = LoRAPT.Config()
            (config.variant, config.head) = (.released, HeadOption(rawValue: head)!)
            var rng = RandomGenerator(seed: 1)
            XCTAssertThrowsError(try LoRAPT(config: config).apply(to: try TinyBackbone.unetr.make(), rng: &rng))
        }
    }

}

/// A method decoded from options, by the path specs and `harness params` take.
func makeMethod(_ name: String, _ options: [String: Any]) throws -> any PEFTMethod {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: options), as: UTF8.self)
    return try MethodRegistry.method(named: name, configurationJSON: json)
}
