import XCTest
@testable import Tensors

/// What the recorded graph keeps alive between the forward and the backward pass: the values some
/// backward reads, and nothing else (PyTorch's saved tensors). Each case makes an intermediate `h`
/// that needs a gradient, feeds it to one op, drops every reference of its own, and asks whether
/// `h`'s buffer survived; then runs the backward, whose gradients the finite-difference tests check.
final class GraphRetentionTests: XCTestCase {
    private var poisoning = false
    override func setUp() {
        poisoning = BufferPool.shared.poisonsFreedBuffers
        BufferPool.shared.poisonsFreedBuffers = true
    }
    override func tearDown() { BufferPool.shared.poisonsFreedBuffers = poisoning }

    /// Whether `op`'s recorded graph keeps its input's values alive.
    private func keepsItsInput(_ op: (Tensor) -> Tensor, shape: [Int] = [4, 6]) -> Bool {
        let leaf = randomTensor(shape, seed: 1)
        leaf.setRequiresGrad(true)
        var h: Tensor? = leaf * 2  // an intermediate: affine keeps nothing of its own
        weak var values = h!.storage
        let y = op(h!)
        h = nil
        let kept = values != nil
        y.sum().backward()
        XCTAssertNotNil(leaf.grad)
        XCTAssertFalse(leaf.grad!.values.contains { $0.isNaN }, "a backward read a freed buffer")
        return kept
    }

    func testShapeOpsAndSumsKeepNothing() {
        let other = randomTensor([4, 6], seed: 2)
        other.setRequiresGrad(true)
        XCTAssertFalse(keepsItsInput { $0 + other })
        XCTAssertFalse(keepsItsInput { $0 - other })
        XCTAssertFalse(keepsItsInput { $0.permuted([1, 0]) * 1 })
        XCTAssertFalse(keepsItsInput { Tensor.concatenate([$0, other], axis: 1) })
        XCTAssertFalse(keepsItsInput { $0.slice(axis: 1, 1..<4) })
        XCTAssertFalse(keepsItsInput { $0.padded([(1, 1)]) })
        XCTAssertFalse(keepsItsInput { $0.sum(axes: [0]) })
    }

    func testOpsThatReadTheirInputKeepIt() {
        let other = randomTensor([4, 6], seed: 2)
        other.setRequiresGrad(true)
        XCTAssertTrue(keepsItsInput { $0 * other }, "d other = gy · h")
        XCTAssertTrue(keepsItsInput { gelu($0) })
        XCTAssertTrue(keepsItsInput { layerNorm($0, weight: nil, bias: nil) })
        XCTAssertTrue(keepsItsInput { matmul($0, other, transposeB: true) })
    }

    /// A (leaky) ReLU with a non-negative slope reads the signs from its output, so a norm's output
    /// feeding it is freed; with a negative slope the output's signs are flipped, so it keeps its input.
    func testLeakyReluKeepsItsOutputNotItsInput() {
        XCTAssertFalse(keepsItsInput { relu($0) })
        XCTAssertFalse(keepsItsInput { leakyRelu($0, slope: 0.01) })
        XCTAssertTrue(keepsItsInput { leakyRelu($0, slope: -0.5) })
    }

    /// A product keeps an operand only for the other's gradient: `h * mask` with a constant mask
    /// (dropout) frees h; the frozen layer of a PEFT backbone frees its input, the trainable one not.
    func testProductsKeepAnOperandOnlyForTheOthersGradient() {
        let mask = randomTensor([4, 6], seed: 3)
        XCTAssertFalse(keepsItsInput { $0 * mask })
        let frozen = randomTensor([5, 6], seed: 4), trainable = randomTensor([5, 6], seed: 5)
        trainable.setRequiresGrad(true)
        XCTAssertFalse(keepsItsInput { linear($0, weight: frozen, bias: nil) })
        XCTAssertTrue(keepsItsInput { linear($0, weight: trainable, bias: nil) })
        let frozenKernel = randomTensor([3, 2, 3, 3, 3], seed: 6), trainableKernel = randomTensor([3, 2, 3, 3, 3], seed: 7)
        trainableKernel.setRequiresGrad(true)
        XCTAssertFalse(keepsItsInput({ conv3d($0, weight: frozenKernel, bias: nil, padding: [1, 1, 1]) }, shape: [1, 2, 4, 4, 4]))
        XCTAssertTrue(keepsItsInput({ conv3d($0, weight: trainableKernel, bias: nil, padding: [1, 1, 1]) }, shape: [1, 2, 4, 4, 4]))
    }

    /// Softmax's backward reads its output, not its input; the output's buffer outlives the output
    /// tensor (a node must not hold its own tensor).
    func testSoftmaxKeepsItsOutputsValuesOnly() {
        XCTAssertFalse(keepsItsInput { softmax($0, axis: -1) * randomTensor([4, 6], seed: 8) })
    }
}
