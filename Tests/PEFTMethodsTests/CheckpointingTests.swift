import Backbones
import PEFTMethods
import Tensors
import XCTest

/// `Backbone.activationCheckpointing` changes memory, never results: for every method on both tiny
/// backbones, with dropout, attention dropout and stochastic depth on, a training step's loss and
/// every trainable gradient equal the un-checkpointed step's bit for bit, and the dropout streams end
/// in the same place.
final class CheckpointingTests: XCTestCase {
    private func model(_ backbone: TinyBackbone) throws -> any Backbone {
        switch backbone.config {
        case .unetr(var c):
            c.dropoutRate = 0.2
            return try makeBackbone(.unetr(c), seed: 7)
        case .swinunetr(var c):
            (c.dropRate, c.attnDropRate, c.dropoutPathRate) = (0.1, 0.1, 0.3)
            return try makeBackbone(.swinunetr(c), seed: 7)
        }
    }

    private struct Step: Equatable {
        var loss: Float
        var gradients: [String: [Float]]
        /// A second forward pass: equal only if every dropout stream ended where it did without checkpointing.
        var nextOutput: [Float]
    }

    private func step(_ backbone: TinyBackbone, method: String, checkpointing: Bool) throws -> Step {
        let model = try model(backbone)
        var rng = RandomGenerator(seed: 5)
        let adaptation = try MethodRegistry.method(named: method).apply(to: model, rng: &rng)
        model.activationCheckpointing = checkpointing
        let (image, label) = backbone.task()
        let logits = model(image)
        let loss = softmaxDiceLoss(logits: logits, labels: label)
        loss.backward()
        var gradients: [String: [Float]] = [:]
        for (name, parameter) in adaptation.trainableParameters { gradients[name] = parameter.grad?.values }
        let next = withoutGrad { model(image) }.values
        return Step(loss: loss.scalar, gradients: gradients, nextOutput: next)
    }

    func testCheckpointedStepsEqualPlainStepsBitForBit() throws {
        for backbone in TinyBackbone.allCases {
            for method in MethodRegistry.names {
                let plain = try step(backbone, method: method, checkpointing: false)
                let checkpointed = try step(backbone, method: method, checkpointing: true)
                XCTAssertFalse(plain.gradients.isEmpty, "\(backbone) \(method)")
                XCTAssertEqual(plain.loss, checkpointed.loss, "\(backbone) \(method)")
                XCTAssertEqual(plain.nextOutput, checkpointed.nextOutput, "\(backbone) \(method): dropout streams")
                for (name, gradient) in plain.gradients where gradient != checkpointed.gradients[name] {
                    let other = checkpointed.gradients[name] ?? []
                    let worst = zip(gradient, other).map { abs($0 - $1) }.max() ?? .infinity
                    XCTFail("\(backbone) \(method) \(name): gradients differ (max |Δ| \(worst))")
                }
            }
        }
    }

    /// A frozen encoder keeps no activations: its ops record nothing (no input needs a gradient), so
    /// between forward and backward `decoder_only` holds only what the decoder's own backward reads,
    /// and with checkpointing `full` holds only the blocks' inputs and outputs.
    func testFrozenEncoderAndCheckpointedBlocksKeepLittleBetweenForwardAndBackward() throws {
        func heldBytes(_ method: String, checkpointing: Bool) throws -> Int {
            let model = try model(.unetr)
            var rng = RandomGenerator(seed: 5)
            _ = try MethodRegistry.method(named: method).apply(to: model, rng: &rng)
            model.activationCheckpointing = checkpointing
            let image = TinyBackbone.unetr.task().image
            let before = BufferPool.shared.statistics.tensorBytes
            let logits = model(image)
            let held = BufferPool.shared.statistics.tensorBytes - before
            logits.sum().backward()
            return held
        }
        let full = try heldBytes("full", checkpointing: false)
        let decoderOnly = try heldBytes("decoder_only", checkpointing: false)
        let checkpointed = try heldBytes("full", checkpointing: true)
        // The decoder's own backward reads its inputs at every resolution (measured: 62 % of full's bytes).
        XCTAssertLessThan(decoderOnly, full * 7 / 10, "decoder_only \(decoderOnly) B vs full \(full) B")
        XCTAssertLessThan(checkpointed, full * 3 / 10, "checkpointed \(checkpointed) B vs full \(full) B")
    }
}
