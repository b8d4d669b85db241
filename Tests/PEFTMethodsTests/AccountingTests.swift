import Backbones
import PEFTMethods
import Tensors
import XCTest

/// Trainable-parameter counts against METHODS.md's formulas, on the tiny UNETR.
final class AccountingTests: XCTestCase {
    private func count(_ method: any PEFTMethod, on backbone: TinyBackbone = .unetr) throws -> (Adaptation, any Backbone) {
        let model = try backbone.make()
        var rng = RandomGenerator(seed: 1)
        return (try method.apply(to: model, rng: &rng), model)
    }

    private func decoderCount(_ model: any Backbone) -> Int {
        let modules = Dictionary(model.namedModules(), uniquingKeysWith: { a, _ in a })
        return model.decoderModuleNames.map { modules[$0]!.parameterCount }.reduce(0, +)
    }

    func testFormulas() throws {
        // Tiny UNETR: hidden 24, mlp 48, 12 blocks.
        let (h, mlp, blocks) = (24, 48, 12)
        let (lora, model) = try count(LoRA())
        let decoder = decoderCount(model)
        // r(m + n) on qkv (72×24), out_proj (24×24), linear1 (48×24), linear2 (24×48), r = 8.
        XCTAssertEqual(lora.trainableParameterCount, decoder + blocks * 8 * ((72 + 24) + (24 + 24) + (48 + 24) + (24 + 48)))

        let (loraPT, _) = try count(LoRAPT())
        // (n1 + n2 + 1)·r·n3 for 𝒲_sa (h×h×4·12), 𝒲_up (mlp×h×12), 𝒲_down (h×mlp×12), r = 1.
        XCTAssertEqual(loraPT.trainableParameterCount, decoder + (2 * h + 1) * 48 + (mlp + h + 1) * 12 * 2)

        let (hyps, _) = try count(HyPS())
        // r(m + n) + 2dm over every encoder linear layer, r = d = 2.
        let linears = blocks * [(72, 24), (24, 24), (48, 24), (24, 48)].map { 2 * ($0.0 + $0.1) + 2 * 2 * $0.0 }.reduce(0, +)
        XCTAssertEqual(hyps.trainableParameterCount, decoder + linears)

        var released = LoRAPT.Config(); released.variant = .released
        let (loraPTReleased, m2) = try count(LoRAPT(config: released))
        let modules = Dictionary(m2.namedModules(), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(loraPTReleased.trainableParameterCount, decoder - modules["out"]!.parameterCount)

        let (bitfit, m5) = try count(BitFit())
        let biases = m5.namedParameters().filter { $0.0.hasSuffix(".bias") && !$0.0.hasPrefix("decoder") && !$0.0.hasPrefix("out") }
        XCTAssertEqual(bitfit.trainableParameterCount, decoder + biases.reduce(0) { $0 + $1.1.value.count })

        let (probe, m3) = try count(LinearProbe())
        XCTAssertEqual(probe.trainableParameterCount, Dictionary(m3.namedModules(), uniquingKeysWith: { a, _ in a })["out"]!.parameterCount)
        let (full, m4) = try count(FullFineTuning())
        XCTAssertEqual(full.trainableParameterCount, m4.parameterCount)
        XCTAssertEqual(try full.parameterCounts().trainablePercent, 100)
    }

    func testRegistryNamesAreUniqueAndUnknownNamesAreExplained() {
        XCTAssertEqual(Set(MethodRegistry.names).count, MethodRegistry.names.count)
        XCTAssertThrowsError(try MethodRegistry.method(named: "lroa")) { error in
            XCTAssert("\(error)".contains("did you mean 'lora'"), "\(error)")
        }
    }

    func testTargetsThatMatchNothingOrTheWrongTypeThrow() throws {
        var config = LoRA.Config()
        config.targets = .names(["nonexistent"])
        XCTAssertThrowsError(try count(LoRA(config: config))) { XCTAssert("\($0)".contains("no module matches"), "\($0)") }
        config.targets = .names(["patch_embeddings"])
        XCTAssertThrowsError(try count(LoRA(config: config))) { XCTAssert("\($0)".contains("cannot adapt"), "\($0)") }
    }

    func testConfigurationsRejectUnknownKeys() throws {
        let json = #"{"rank": 4, "alpah": 8}"#.data(using: .utf8)!
        XCTAssertThrowsError(try JSONDecoder().decode(LoRA.Config.self, from: json)) { error in
            XCTAssert("\(error)".contains("did you mean 'alpha'"), "\(error)")
        }
        let ok = try JSONDecoder().decode(LoRA.Config.self, from: #"{"rank": 4, "targets": "vit\\.blocks\\.0\\..*qkv"}"#.data(using: .utf8)!)
        XCTAssertEqual(ok.rank, 4)
        XCTAssertEqual(ok.alpha, 16)
    }
}
