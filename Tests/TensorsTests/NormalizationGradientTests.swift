import Tensors
import XCTest

final class NormalizationGradientTests: XCTestCase {
    func testLayerNorm() {
        let x = randomTensor([3, 4, 6], seed: 1), w = randomTensor([6], seed: 2), b = randomTensor([6], seed: 3)
        checkGradients([x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x]) { layerNorm($0[0], weight: nil, bias: nil) }
        let y = layerNorm(x, weight: nil, bias: nil)
        let row = Array(y.values[0..<6])
        XCTAssertEqual(row.reduce(0, +) / 6, 0, accuracy: 1e-5)
        XCTAssertEqual(row.map { $0 * $0 }.reduce(0, +) / 6, 1, accuracy: 1e-3)
    }

    func testInstanceNorm() {
        let x = randomTensor([2, 3, 2, 3, 2], seed: 4), w = randomTensor([3], seed: 5), b = randomTensor([3], seed: 6)
        checkGradients([x, w, b]) { instanceNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x]) { instanceNorm($0[0], weight: nil, bias: nil) }
    }

    func testBatchNormTrainingAndEvaluation() {
        let x = randomTensor([2, 3, 2, 2, 2], seed: 7), w = randomTensor([3], seed: 8), b = randomTensor([3], seed: 9)
        let mean = Tensor(zeros: [3]), variance = Tensor(repeating: 1, shape: [3])
        checkGradients([x, w, b]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: mean.detached(), runningVar: variance.detached(), training: true)
        }
        let runningMean = randomTensor([3], seed: 10), runningVar = withoutGrad { square(randomTensor([3], seed: 11)) + 0.5 }
        checkGradients([x, w, b]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: runningMean, runningVar: runningVar, training: false)
        }
        // Running statistics follow PyTorch: momentum 0.1, unbiased variance.
        let m = Tensor(zeros: [3]), v = Tensor(repeating: 1, shape: [3])
        _ = batchNorm(x, weight: nil, bias: nil, runningMean: m, runningVar: v, training: true)
        let channel0 = (0..<2).flatMap { n in (0..<8).map { x[flat: n * 24 + $0] } }
        let mu = channel0.reduce(0, +) / 16
        let unbiased = channel0.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 15
        XCTAssertEqual(m[flat: 0], 0.1 * mu, accuracy: 1e-5)
        XCTAssertEqual(v[flat: 0], 0.9 + 0.1 * unbiased, accuracy: 1e-5)
    }
}
