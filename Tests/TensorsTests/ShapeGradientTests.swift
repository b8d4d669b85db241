import Tensors
import XCTest

final class ShapeGradientTests: XCTestCase {
    func testReshapeAndPermute() {
        let x = randomTensor([2, 3, 4], seed: 1)
        checkGradients([x]) { $0[0].reshaped([4, -1]) }
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed(0, 2) * $0[0].transposed(0, 2) }
        let y = x.permuted([1, 2, 0])
        XCTAssertEqual(y.shape, [3, 4, 2])
        XCTAssertEqual(y[flat: (1 * 4 + 2) * 2 + 1], x[flat: (1 * 3 + 1) * 4 + 2])
    }

    func testNonContiguousInputsThroughPermute() {
        // Ops see a permuted (copied) view of their input; the gradient must route back through it.
        let x = randomTensor([2, 3, 4], seed: 2), w = randomTensor([4, 2], seed: 3)
        checkGradients([x, w]) { matmul($0[0].permuted([0, 2, 1]).permuted([0, 2, 1]), $0[1]) }
        checkGradients([x]) { softmax($0[0].permuted([2, 1, 0]), axis: 1) }
    }

    func testSlicePadRollConcat() {
        let x = randomTensor([2, 3, 5], seed: 4)
        checkGradients([x]) { $0[0].slice([0..<1, nil, 1..<4]) }
        checkGradients([x]) { $0[0].slice(axis: 2, 2..<5) }
        checkGradients([x]) { $0[0].padded([(0, 0), (1, 2), (0, 3)]) }
        checkGradients([x]) { $0[0].rolled(shifts: [1, -2], axes: [1, 2]) }
        checkGradients([x]) { $0[0].flipped(axes: [0, 2]) }
        let flipped = x.flipped(axes: [2])
        XCTAssertEqual(flipped[flat: 0], x[flat: 4])
        XCTAssertEqual(flipped.flipped(axes: [2]).values, x.values)
        let y = randomTensor([2, 2, 5], seed: 5)
        checkGradients([x, y]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        checkGradients([x]) { $0[0].split(sizes: [2, 3], axis: 2)[1] }

        let rolled = x.rolled(shifts: [2], axes: [2])
        XCTAssertEqual(rolled[flat: 2], x[flat: 0])
        XCTAssertEqual(rolled[flat: 0], x[flat: 3])
        let padded = x.padded([(0, 0), (1, 0), (0, 0)])
        XCTAssertEqual(padded.shape, [2, 4, 5])
        XCTAssertEqual(padded[flat: 0], 0)
        XCTAssertEqual(padded[flat: 5], x[flat: 0])
    }

    func testGatherRows() {
        let table = randomTensor([5, 3], seed: 6)
        checkGradients([table]) { gatherRows($0[0], indices: [4, 0, 4, 2, 2, 2]) }
    }
}
