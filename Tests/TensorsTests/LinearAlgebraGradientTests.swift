import Tensors
import XCTest

final class LinearAlgebraGradientTests: XCTestCase {
    func testMatmulAllTranspositions() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 1), b = randomTensor(tb ? [5, 4] : [4, 5], seed: 2)
                checkGradients([a, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
                let batchedA = randomTensor(ta ? [2, 3, 4, 3] : [2, 3, 3, 4], seed: 3)
                let batchedB = randomTensor(tb ? [2, 3, 5, 4] : [2, 3, 4, 5], seed: 4)
                checkGradients([batchedA, batchedB]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
                checkGradients([batchedA, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            }
        }
    }

    func testMatmulValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2])
        XCTAssertEqual(matmul(a, b).values, [4, 5, 10, 11])
    }

    func testLinear() {
        let x = randomTensor([2, 3, 4], seed: 5), w = randomTensor([6, 4], seed: 6), b = randomTensor([6], seed: 7)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    func testAttentionWithBias() {
        let q = randomTensor([2, 3, 4], seed: 8), k = randomTensor([2, 3, 4], seed: 9), v = randomTensor([2, 3, 4], seed: 10)
        let bias = randomTensor([3, 3], seed: 11)
        checkGradients([q, k, v, bias]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.5, bias: $0[3])
        }
    }
}
