import Tensors
import XCTest

/// Activation checkpointing (`checkpointed`): the gradient is the block's gradient (finite
/// differences), bit-identical to the un-checkpointed step's with dropout on, reaches tensors the
/// block reads from outside, and the block keeps nothing between its forward and backward.
final class CheckpointTests: XCTestCase {
    /// x + fc2(dropout(gelu(fc1(x)))), a transformer MLP in miniature.
    private final class TinyBlock: Module {
        let fc1: Linear, fc2: Linear, drop: Dropout
        init(dropout: Float, width: Int = 6) {
            var rng = RandomGenerator(seed: 21)
            fc1 = Linear(width, 2 * width, rng: &rng)
            fc2 = Linear(2 * width, width, rng: &rng)
            drop = Dropout(dropout, seed: 5)
        }
        override var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2), ("drop", drop)] }
        func callAsFunction(_ x: Tensor) -> Tensor { x + fc2(drop(gelu(fc1(x)))) }
    }

    func testGradientOfACheckpointedBlockMatchesFiniteDifferences() {
        let block = TinyBlock(dropout: 0)
        let x = randomTensor([3, 6], seed: 1)
        checkGradients([x, block.fc1.weight.value, block.fc2.bias!.value]) { inputs in
            checkpointed([inputs[0]], stateOf: block) { block($0[0]) } * inputs[0]
        }
    }

    /// Three blocks in a row with dropout, the loss read from the input too (a second consumer of x):
    /// the loss, every parameter's gradient and the input's are equal bit for bit, and the dropout
    /// streams end where the un-checkpointed step leaves them.
    func testCheckpointedStepEqualsTheUncheckpointedStepBitForBit() {
        func step(checkpointing: Bool) -> (loss: Float, gradients: [[Float]], next: [Float]) {
            let blocks = (0..<3).map { _ in TinyBlock(dropout: 0.3) }
            let x = randomTensor([4, 6], seed: 2)
            x.setRequiresGrad(true)
            var h = x
            for block in blocks {
                h = checkpointing ? checkpointed([h], stateOf: block) { block($0[0]) } : block(h)
            }
            let loss = (h * h).sum() + (x * h).sum()
            loss.backward()
            let gradients = [x.grad!.values] + blocks.flatMap { $0.namedParameters().map { $0.1.grad!.values } }
            let next = withoutGrad { blocks[0](x) }.values
            return (loss.scalar, gradients, next)
        }
        let plain = step(checkpointing: false), recomputed = step(checkpointing: true)
        XCTAssertEqual(plain.loss, recomputed.loss)
        XCTAssertEqual(plain.gradients.count, 13)
        XCTAssertEqual(plain.gradients, recomputed.gradients)
        XCTAssertEqual(plain.next, recomputed.next, "the dropout stream must end where the plain step leaves it")
    }

    /// A weight computed outside the block (as LoRA-PT's hook rebuilds its weights from factors)
    /// gets its gradient through the block, and its own node runs after the block's.
    func testGradientReachesATensorComputedOutsideTheBlock() {
        func step(checkpointing: Bool) -> [[Float]] {
            let a = randomTensor([6, 2], seed: 3), b = randomTensor([2, 6], seed: 4)
            a.setRequiresGrad(true); b.setRequiresGrad(true)
            let weight = matmul(a, b)
            let block = TinyBlock(dropout: 0)
            let body: ([Tensor]) -> Tensor = { block(linear($0[0], weight: weight, bias: nil)) }
            let x = randomTensor([3, 6], seed: 5)
            let y = checkpointing ? checkpointed([x], stateOf: block, body) : body([x])
            (y * y).sum().backward()
            return [a.grad!.values, b.grad!.values, block.fc1.weight.grad!.values]
        }
        XCTAssertEqual(step(checkpointing: false), step(checkpointing: true))
    }

    /// Between the forward and the backward a checkpointed chain holds each block's output alone;
    /// the plain chain holds every intermediate a backward reads. And a block nothing trainable
    /// reaches keeps nothing.
    func testCheckpointedBlocksKeepOnlyTheirInputs() {
        func liveBytesAfterForward(checkpointing: Bool, trainable: Bool) -> Int {
            let blocks = (0..<4).map { _ in TinyBlock(dropout: 0, width: 64) }
            if !trainable { blocks.forEach { $0.freeze() } }
            let x = randomTensor([256, 64], seed: 6)
            let before = BufferPool.shared.statistics.tensorBytes
            var h = x
            for block in blocks {
                h = checkpointing ? checkpointed([h], stateOf: block) { block($0[0]) } : block(h)
            }
            let held = BufferPool.shared.statistics.tensorBytes - before
            XCTAssertEqual(h.requiresGrad, trainable)
            if trainable { h.sum().backward() }
            return held
        }
        let activation = 256 * 64 * 4
        let plain = liveBytesAfterForward(checkpointing: false, trainable: true)
        let kept = liveBytesAfterForward(checkpointing: true, trainable: true)
        XCTAssertGreaterThanOrEqual(plain, 4 * 4 * activation, "fc1's and gelu's outputs, 2× wide, are read by gelu and fc2")
        XCTAssertLessThanOrEqual(kept, 4 * activation, "one output per block")
        XCTAssertLessThanOrEqual(liveBytesAfterForward(checkpointing: true, trainable: false), 4 * activation)
    }
}
