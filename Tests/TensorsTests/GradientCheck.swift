import Tensors
import XCTest

/// Central-difference gradient checks. The loss is L = Σ f(inputs) ⊙ R for a fixed random R, summed
/// in Double so the check measures the op, not the final reduction.
func checkGradients(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 1e-2,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    var rng = RandomGenerator(seed: 99)
    for input in inputs { input.setRequiresGrad(true); input.clearGrad() }
    let probe = withoutGrad { f(inputs) }
    let weights = (0..<probe.count).map { _ in Double(rng.uniform(-1, 1)) }
    func loss() -> Double {
        let y = withoutGrad { f(inputs) }
        return zip(y.values, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
    }
    let y = f(inputs)
    (y * Tensor(weights.map(Float.init), shape: y.shape)).sum().backward()
    for (n, input) in inputs.enumerated() {
        guard let analytic = input.grad?.values else {
            XCTFail("input \(n) received no gradient", file: file, line: line)
            continue
        }
        var numeric = [Double](repeating: 0, count: input.count)
        for i in 0..<input.count {
            let saved = input[flat: i]
            input[flat: i] = saved + epsilon
            let plus = loss()
            input[flat: i] = saved - epsilon
            let minus = loss()
            input[flat: i] = saved
            numeric[i] = (plus - minus) / Double(2 * epsilon)
        }
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssert(worst / scale <= tolerance,
                  "input \(n) \(input.shape): max |analytic − numeric| = \(worst) (scale \(scale))", file: file, line: line)
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.normal(shape, std: scale, using: &rng)
}
