import Backbones
import Tensors
import XCTest

/// The conv blocks' activation is a stored part of each block (MONAI's `lrelu`), which a tool such as
/// the parity runner swaps on its own model; production models never consult anything global.
final class BlockActivationTests: XCTestCase {
    private func tinyUNETR() throws -> any Backbone {
        var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
        (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = (8, 48, 96, 4)
        return try makeBackbone(.unetr(c), seed: 7)
    }

    func testEveryConvBlockActivationIsReplacedAndRestored() throws {
        let model = try tinyUNETR()
        model.eval()
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.normal([1, 1, 32, 32, 32], using: &rng)
        let original = withoutGrad { model(x) }.values

        // MONAI's UNETR: encoder1 (1 block), encoder2 (2 stages), encoder3 (1), encoder4 (0 with blocks),
        // decoder5…decoder2 (4): 8 residual blocks, each applying its activation twice.
        var calls = 0
        let counted = model.replaceConvBlockActivations(with: BlockActivation { x in
            calls += 1
            return leakyRelu(x)
        })
        XCTAssertEqual(counted, 8)
        XCTAssertEqual(withoutGrad { model(x) }.values, original, "the same function gives the same output")
        XCTAssertEqual(calls, 16)

        model.replaceConvBlockActivations(with: BlockActivation { leakyRelu($0, slope: 0.2) })
        XCTAssertNotEqual(withoutGrad { model(x) }.values, original, "the replacement is what the blocks call")

        model.replaceConvBlockActivations(with: .monai)
        XCTAssertEqual(withoutGrad { model(x) }.values, original)
    }
}
