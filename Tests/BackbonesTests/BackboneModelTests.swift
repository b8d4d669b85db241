import Backbones
import Foundation
import Tensors
import TestSupport
import XCTest

/// Shapes, key sets, checkpoints and parameter counts of both backbones (no training, small inputs).
final class BackboneModelTests: XCTestCase {
    private func swin(_ configure: (inout SwinUNETRConfig) -> Void = { _ in }) throws -> any Backbone {
        var c = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        c.featureSize = 12
        c.depths = [2, 1, 1, 1]
        configure(&c)
        return try makeBackbone(.swinunetr(c), seed: 7)
    }

    private func unetr(_ configure: (inout UNETRConfig) -> Void = { _ in }) throws -> any Backbone {
        var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
        (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = (8, 48, 96, 4)
        configure(&c)
        return try makeBackbone(.unetr(c), seed: 7)
    }

    private func input(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, using: &rng)
    }

    func testSwinUNETRForwardShapes() throws {
        for (size, inChannels, outChannels, batch, v2) in [([32, 64, 32], 1, 3, 1, false), ([64, 32, 32], 2, 1, 2, true)] {
            let model = try swin { $0.inChannels = inChannels; $0.outChannels = outChannels; $0.useV2 = v2 }
            model.eval()
            XCTAssertTrue(model.acceptsInput(size: size))
            let y = withoutGrad { model(input([batch, inChannels] + size)) }
            XCTAssertEqual(y.shape, [batch, outChannels] + size)
            XCTAssertTrue(Kernels.allFinite(y.pointer, count: y.count))
        }
        let model = try swin()
        XCTAssertFalse(model.acceptsInput(size: [48, 64, 64]), "MONAI requires every size divisible by 32")
        XCTAssertFalse(model.acceptsInput(size: [64, 64]))
        XCTAssertEqual(model.encoderModuleName, "swinViT")
        XCTAssertEqual(model.decoderModuleNames, ["decoder1", "decoder2", "decoder3", "decoder4", "decoder5", "out"])
    }

    func testUNETRForwardShapes() throws {
        for (size, outChannels, batch) in [([32, 32, 32], 2, 1), ([32, 48, 32], 3, 2)] {
            let model = try unetr { $0.imgSize = size; $0.outChannels = outChannels }
            model.eval()
            XCTAssertTrue(model.acceptsInput(size: size))
            XCTAssertFalse(model.acceptsInput(size: [64, 64, 64]))
            let y = withoutGrad { model(input([batch, 1] + size)) }
            XCTAssertEqual(y.shape, [batch, outChannels] + size)
        }
    }

    /// Dropout, attention dropout and stochastic depth act in training and vanish in evaluation.
    func testSwinUNETRTrainingRegularisers() throws {
        let model = try swin { $0.dropRate = 0.1; $0.attnDropRate = 0.5; $0.dropoutPathRate = 0.3; $0.useV2 = true }
        let x = input([2, 1, 32, 32, 32])
        model.train()
        let first = model(x)
        first.sum().backward()
        XCTAssertTrue(Kernels.allFinite(first.pointer, count: first.count))
        let table = try XCTUnwrap(model.namedParameters().first { $0.0.hasSuffix("layers1.0.blocks.1.attn.relative_position_bias_table") }?.1)
        XCTAssertNotNil(table.grad)
        let second = withoutGrad { model(x) }
        XCTAssertNotEqual(first.values, second.values, "training passes draw new masks")
        model.eval()
        XCTAssertEqual(withoutGrad { model(x) }.values, withoutGrad { model(x) }.values)
    }

    /// The state dict has exactly the MONAI fixture's keys and shapes, including the int64 buffer.
    func testSwinUNETRKeysMatchMONAI() throws {
        let folder = try SharedData.fixture("parity/swinunetr-tiny")
        let model = try makeBackbone(try BackboneConfig.load(contentsOf: folder.appendingPathComponent("config.json")))
        let archive = try SafetensorsArchive.read(contentsOf: folder.appendingPathComponent("weights.safetensors"))
        let ours = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.shape) })
        let theirs = Dictionary(uniqueKeysWithValues: archive.entries.map { ($0.name, $0.tensor.shape) })
        XCTAssertEqual(Set(ours.keys).subtracting(theirs.keys), [], "keys MONAI does not have")
        XCTAssertEqual(Set(theirs.keys).subtracting(ours.keys), [], "MONAI keys we lack")
        for (name, shape) in theirs { XCTAssertEqual(ours[name], shape, name) }
        let index = "swinViT.layers1.0.blocks.0.attn.relative_position_index"
        XCTAssertEqual(model.stateDict().first { $0.name == index }?.isInteger, true)
        XCTAssertEqual(archive.entries.first { $0.name == index }?.dtype, .I64)
        XCTAssertFalse(model.namedParameters().contains { $0.0.hasSuffix("relative_position_index") })
        XCTAssertEqual(archive[index]?.values, model.stateDict().first { $0.name == index }?.tensor.values)
    }

    /// PEFT hooks: window attention is an AdaptableBlock, its projections are `Linear` layers.
    func testSwinUNETRAdapterHooks() throws {
        let model = try swin { $0.useV2 = true }
        let modules = Dictionary(uniqueKeysWithValues: model.namedModules())
        for name in ["qkv", "proj"] {
            XCTAssertTrue(modules["swinViT.layers1.0.blocks.0.attn.\(name)"] is Linear, name)
        }
        XCTAssertTrue(modules["swinViT.layers1.0.blocks.0.mlp.linear1"] is Linear)
        XCTAssertTrue(modules["swinViT.layers2.0.downsample.reduction"] is Linear)
        XCTAssertTrue(modules["swinViT.patch_embed.proj"] is Conv3d)
        XCTAssertNotNil(modules["swinViT.layers4c.0.layer.conv1.conv"])
        let blocks = model.namedModules().compactMap { $0.1 as? AdaptableBlock }
        XCTAssertEqual(blocks.count, 2 * (2 + 1 + 1 + 1), "an attention and an MLP block per Swin block")

        model.eval()
        let x = input([1, 1, 32, 32, 32])
        let before = withoutGrad { model(x) }
        let attention = try XCTUnwrap(modules["swinViT.layers1.0.blocks.1.attn"] as? WindowAttention)
        let adapter = ScaleAdapter()
        attention.adapter = adapter
        XCTAssertTrue(model.namedParameters().contains { $0.0 == "swinViT.layers1.0.blocks.1.attn.scale" })
        let after = withoutGrad { model(x) }
        XCTAssertEqual(adapter.calls, 1)
        XCTAssertNotEqual(before.values, after.values)
        adapter.scale.value[flat: 0] = 1
        let restored = withoutGrad { model(x) }
        XCTAssertEqual(before.values, restored.values)
    }

    func testCheckpointRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hippopeft-roundtrip-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var swinConfig = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        (swinConfig.featureSize, swinConfig.depths, swinConfig.useV2, swinConfig.normName) = (12, [2, 1, 1, 1], true, .batch)
        var unetrConfig = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
        (unetrConfig.featureSize, unetrConfig.hiddenSize, unetrConfig.mlpDim, unetrConfig.numHeads) = (8, 48, 96, 4)
        for (config, shape) in [(BackboneConfig.swinunetr(swinConfig), [2, 1, 32, 32, 64]), (.unetr(unetrConfig), [1, 1, 32, 32, 32])] {
            let source = try makeBackbone(config, seed: 1)
            // One training-mode pass, so batch-norm statistics and counters differ from a fresh model's.
            _ = withoutGrad { source(input(shape, seed: 11)) }
            source.eval()
            try source.saveCheckpoint(url)
            let fresh = try makeBackbone(config, seed: 2)
            fresh.eval()
            let x = input(shape)
            let expected = withoutGrad { source(x) }.values
            XCTAssertNotEqual(withoutGrad { fresh(x) }.values, expected, config.kind)
            try fresh.loadCheckpoint(url)
            XCTAssertEqual(withoutGrad { fresh(x) }.values, expected, config.kind)
            for (a, b) in zip(source.stateDict(), fresh.stateDict()) {
                XCTAssertEqual(a.name, b.name)
                XCTAssertEqual(a.tensor.values, b.tensor.values, a.name)
            }
        }
    }

    /// MONAI 1.6.1's counts (checked with the venv): SwinUNETR(in 1, out 2, feature 48) and
    /// UNETR(in 1, out 2, img 128³, feature 16, hidden 768, mlp 3072, 12 heads). Built, not run.
    func testPaperParameterCounts() throws {
        func counts(_ model: any Backbone) -> (total: Int, decoder: Int) {
            let decoder = Set(model.decoderModuleNames)
            let inDecoder = model.namedParameters().filter { decoder.contains(String($0.0.prefix { $0 != "." })) }
            return (model.parameterCount, inDecoder.reduce(0) { $0 + $1.1.value.count })
        }
        var swin = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        swin.featureSize = 48
        let s = counts(try makeBackbone(.swinunetr(swin)))
        XCTAssertEqual(s.total, 62_186_708)
        XCTAssertEqual(s.decoder, 19_597_922)
        swin.useV2 = true
        XCTAssertEqual(try makeBackbone(.swinunetr(swin)).parameterCount, 72_762_068)

        let u = counts(try makeBackbone(.unetr(UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [128, 128, 128]))))
        XCTAssertEqual(u.total, 93_029_602)
        XCTAssertEqual(u.decoder, 2_678_562)
    }
}

/// Multiplies a block's output by a learnable scalar: the smallest `BlockAdapter`.
private final class ScaleAdapter: BlockAdapter {
    let scale = Parameter(Tensor([0.5], shape: [1]))
    var calls = 0
    var children: [(String, Module)] { [] }
    var parameters: [(String, Parameter)] { [("scale", scale)] }
    func output(_ x: Tensor, base: (Tensor) -> Tensor) -> Tensor {
        calls += 1
        return base(x) * scale.value
    }
}
