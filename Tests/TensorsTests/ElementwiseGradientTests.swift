import Tensors
import XCTest

final class ElementwiseGradientTests: XCTestCase {
    func testBroadcastingArithmetic() {
        let shapes: [([Int], [Int])] = [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]),
                                        ([2, 1, 4], [1, 3, 1]), ([1, 3, 2, 2, 2], [3, 1, 1, 1]), ([2, 3], [])]
        for (i, (a, b)) in shapes.enumerated() {
            let x = randomTensor(a, seed: UInt64(i)), y = randomTensor(b, seed: UInt64(i + 10))
            checkGradients([x, y]) { $0[0] + $0[1] }
            checkGradients([x, y]) { $0[0] - $0[1] }
            checkGradients([x, y]) { $0[0] * $0[1] }
            let positive = withoutGrad { (y * y) + 0.5 }
            checkGradients([x, positive]) { $0[0] / $0[1] }
        }
    }

    func testScalarAffine() {
        let x = randomTensor([3, 5], seed: 1)
        checkGradients([x]) { 2.5 * $0[0] - 1 }
        checkGradients([x]) { -$0[0] }
    }

    func testActivations() {
        // Keep inputs away from the kinks of relu / leaky relu, where differences are not derivatives.
        let x = randomTensor([4, 6], seed: 2)
        for i in 0..<x.count where abs(x[flat: i]) < 0.05 { x[flat: i] += 0.1 }
        checkGradients([x]) { relu($0[0]) }
        checkGradients([x]) { leakyRelu($0[0], slope: 0.1) }
        checkGradients([x]) { leakyRelu($0[0], slope: -0.3) }
        checkGradients([x]) { sigmoid($0[0]) }
        checkGradients([x]) { gelu($0[0]) }
        checkGradients([x]) { exp($0[0]) }
        checkGradients([x]) { square($0[0]) }
        let positive = withoutGrad { square(x) + 0.5 }
        checkGradients([positive]) { log($0[0]) }
        checkGradients([positive]) { sqrt($0[0]) }
    }

    func testGeluMatchesErfDefinition() {
        let x = Tensor([-3, -1, -0.5, 0, 0.5, 1, 3], shape: [7])
        // Values of x·Φ(x) from the definition, to 1e-6.
        let expected: [Float] = [-0.00404969, -0.15865525, -0.15426877, 0, 0.34573123, 0.84134475, 2.99595031]
        for (y, e) in zip(gelu(x).values, expected) { XCTAssertEqual(y, e, accuracy: 1e-5) }
    }

    func testReductions() {
        let x = randomTensor([2, 3, 4], seed: 3)
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].sum(axes: [1]) }
        checkGradients([x]) { $0[0].sum(axes: [0, 2], keepingAxes: true) }
        checkGradients([x]) { $0[0].mean(axes: [-1]) }
        checkGradients([x]) { $0[0].mean() }
        XCTAssertEqual(x.sum(axes: [0, 1, 2]).scalar, x.values.reduce(0, +), accuracy: 1e-4)
    }

    func testSoftmaxFamilies() {
        let rows = randomTensor([3, 5], seed: 4)
        checkGradients([rows]) { softmax($0[0], axis: -1) }
        checkGradients([rows]) { logSoftmax($0[0], axis: -1) }
        let channels = randomTensor([2, 3, 2, 2, 3], seed: 5)
        checkGradients([channels]) { softmax($0[0], axis: 1) }
        checkGradients([channels]) { logSoftmax($0[0], axis: 1) }
        let p = softmax(channels, axis: 1)
        for n in 0..<2 {
            for v in 0..<12 {
                let total = (0..<3).map { p[flat: (n * 3 + $0) * 12 + v] }.reduce(0, +)
                XCTAssertEqual(total, 1, accuracy: 1e-5)
            }
        }
    }

    func testDropoutIsSeededAndScaled() {
        let x = Tensor(repeating: 1, shape: [1000])
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let ya = dropout(x, probability: 0.25, using: &a), yb = dropout(x, probability: 0.25, using: &b)
        XCTAssertEqual(ya.values, yb.values)
        let kept = ya.values.filter { $0 != 0 }
        XCTAssert(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        let input = randomTensor([4, 5], seed: 6)
        checkGradients([input]) { var rng = RandomGenerator(seed: 7); return dropout($0[0], probability: 0.3, using: &rng) }
        checkGradients([randomTensor([3, 2, 2], seed: 8)]) {
            var rng = RandomGenerator(seed: 9)
            return dropPath($0[0], probability: 0.5, using: &rng)
        }
    }
}
