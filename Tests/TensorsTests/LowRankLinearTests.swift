import Tensors
import XCTest

/// The fused low-rank linear op (LoRA, PiSSA, HyPS): its gradients by finite differences, and its
/// values and gradients bit for bit against the composition it replaces, so that records made
/// before and after the fusion agree.
final class LowRankLinearTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() {
        let x = randomTensor([2, 3, 5], seed: 1), w = randomTensor([4, 5], seed: 2), bias = randomTensor([4], seed: 3)
        let a = randomTensor([2, 5], seed: 4), b = randomTensor([4, 2], seed: 5)
        checkGradients([x, w, bias, a, b]) {
            linear($0[0], weight: $0[1], bias: $0[2], plus: LowRankFactors(a: $0[3], b: $0[4], scaling: 1.5))
        }
        checkGradients([x, a, b]) { linear($0[0], weight: w, bias: nil, plus: LowRankFactors(a: $0[1], b: $0[2], scaling: 2)) }
    }

    /// Shapes large enough that the products are split over workers and blocked along their inner
    /// axis; x also feeds a second consumer, so its gradient sums three contributions in graph order.
    func testValuesAndGradientsAreTheBitsOfTheComposition() {
        struct Case { let bias: Bool, trainableWeight: Bool, inputNeedsGradient: Bool, trainableA: Bool }
        let cases = [
            Case(bias: true, trainableWeight: false, inputNeedsGradient: true, trainableA: true),  // LoRA inside a network
            Case(bias: false, trainableWeight: false, inputNeedsGradient: false, trainableA: true),  // LoRA on the first layer
            Case(bias: true, trainableWeight: true, inputNeedsGradient: true, trainableA: true),
            Case(bias: true, trainableWeight: false, inputNeedsGradient: true, trainableA: false),
        ]
        for (n, c) in cases.enumerated() {
            let fused = run(c.bias, c.trainableWeight, c.inputNeedsGradient, c.trainableA) { x, w, bias, a, b in
                linear(x, weight: w, bias: bias, plus: LowRankFactors(a: a, b: b, scaling: 0.75))
            }
            let composed = run(c.bias, c.trainableWeight, c.inputNeedsGradient, c.trainableA) { x, w, bias, a, b in
                linear(x, weight: w, bias: bias) + linear(linear(x, weight: a, bias: nil), weight: b, bias: nil) * 0.75
            }
            XCTAssertEqual(fused.count, composed.count, "case \(n)")
            for (name, values) in composed {
                let other = fused[name] ?? []
                let differing = zip(other, values).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(other.count, values.count, "case \(n): \(name)")
                XCTAssertEqual(differing, 0, "case \(n): \(name) differs in \(differing) of \(values.count) elements")
            }
        }
    }

    /// The output's values and every gradient, by name, after `Σ y·R + Σ x·S`'s backward.
    private func run(_ hasBias: Bool, _ trainableWeight: Bool, _ inputNeedsGradient: Bool, _ trainableA: Bool,
                     _ layer: (Tensor, Tensor, Tensor?, Tensor, Tensor) -> Tensor) -> [String: [Float]] {
        let (rows, inFeatures, outFeatures, rank) = (300, 200, 600, 8)
        let x = randomTensor([2, rows / 2, inFeatures], seed: 11), w = randomTensor([outFeatures, inFeatures], seed: 12)
        let bias = hasBias ? randomTensor([outFeatures], seed: 13) : nil
        let a = randomTensor([rank, inFeatures], seed: 14), b = randomTensor([outFeatures, rank], seed: 15)
        x.setRequiresGrad(inputNeedsGradient)
        w.setRequiresGrad(trainableWeight)
        bias?.setRequiresGrad(trainableWeight)
        a.setRequiresGrad(trainableA)
        b.setRequiresGrad(true)
        let y = layer(x, w, bias, a, b)
        let loss = (y * randomTensor(y.shape, seed: 16)).sum() + (x * randomTensor(x.shape, seed: 17)).sum()
        loss.backward()
        var out = ["y": y.values]
        for (name, t) in [("x", x), ("w", w), ("a", a), ("b", b)] + (bias.map { [("bias", $0)] } ?? []) {
            if let grad = t.grad { out["d" + name] = grad.values }
        }
        return out
    }
}
