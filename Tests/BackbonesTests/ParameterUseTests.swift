import Backbones
import Tensors
import XCTest

/// `ParameterUse` finds the parameters the forward pass never reads from the network itself.
final class ParameterUseTests: XCTestCase {
    func testUNETRNeverReadsItsCrossAttentionNormsAndSwinUNETRReadsEverything() throws {
        var unetr = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
        (unetr.featureSize, unetr.hiddenSize, unetr.mlpDim, unetr.numHeads) = (4, 24, 48, 2)
        let use = try ParameterUse.of(.unetr(unetr))
        // MONAI ≥ 1.4 registers norm_cross_attn in every block for a cross-attention UNETR never runs.
        let expected = Set((0..<12).flatMap { ["vit.blocks.\($0).norm_cross_attn.weight", "vit.blocks.\($0).norm_cross_attn.bias"] })
        XCTAssertEqual(use.unused, expected)
        XCTAssertEqual(use.names, Set(try makeBackbone(.unetr(unetr)).namedParameters().map(\.0)), "the probe has the network's names")

        var swin = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        (swin.featureSize, swin.depths, swin.numHeads) = (24, [2, 2, 2, 2], [3, 6, 12, 24])
        let swinUse = try ParameterUse.of(.swinunetr(swin))
        XCTAssertEqual(swinUse.unused, [])
        XCTAssertEqual(swinUse.names, Set(try makeBackbone(.swinunetr(swin)).namedParameters().map(\.0)))
    }
}
