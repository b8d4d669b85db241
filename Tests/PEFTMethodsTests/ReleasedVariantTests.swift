import Backbones
import PEFTMethods
import Tensors
import XCTest

/// The released readings start where the authors' scripts start.
final class ReleasedVariantTests: XCTestCase {
    /// `train_HyPS.py` loads no checkpoint: on the paper's SwinUNETR (feature 48) every backbone
    /// parameter — swinViT, encoder1–4, encoder10, the decoders and out — leaves the loaded weights
    /// for a fresh initialisation. Parameters whose initialisation does not depend on the seed (norm
    /// weights 1, biases 0) must equal it; every other one must differ from the loaded weights.
    func testReleasedHyPSStartsTheWholeNetworkFromRandomWeights() throws {
        var args = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        (args.featureSize, args.depths, args.numHeads) = (48, [2, 2, 2, 2], [3, 6, 12, 24])
        let config = BackboneConfig.swinunetr(args)
        let model = try makeBackbone(config, seed: 7)
        // "Pre-trained" weights that equal no initialisation: every parameter perturbed.
        var noise = RandomGenerator(seed: 3, stream: "loaded")
        for (_, p) in model.namedParameters() { p.assign(p.value + Tensor.normal(p.shape, std: 0.01, using: &noise)) }
        func values(_ model: any Backbone) -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.values) })
        }
        let loaded = values(model)
        let (a, b) = (values(try makeBackbone(config, seed: 1)), values(try makeBackbone(config, seed: 2)))

        var released = HyPS.Config()
        released.variant = .released
        var rng = RandomGenerator(seed: 5)
        _ = try HyPS(config: released).apply(to: model, rng: &rng)

        let after = values(model)
        var kept: [String] = [], notInitial: [String] = []
        for (name, values) in loaded {
            let now = try XCTUnwrap(after[name], name)
            if now == values { kept.append(name) }
            if a[name] == b[name], now != a[name] { notInitial.append(name) }
        }
        XCTAssertEqual(kept.sorted(), [], "still the loaded weights")
        XCTAssertEqual(notInitial.sorted(), [], "not the (seed-independent) initial values")
        for module in ["swinViT", "encoder1", "encoder2", "encoder3", "encoder4", "encoder10", "decoder1", "decoder5", "out"] {
            XCTAssertTrue(loaded.keys.contains { $0.hasPrefix(module + ".") }, "\(module) was checked")
        }
    }
}
