import Backbones
import PEFTMethods
import Tensors
import XCTest

final class DecompositionTests: XCTestCase {
    func testPiSSAResidualPlusPrincipalIsTheWeight() throws {
        let layer = Linear(weight: randomMatrix([12, 9], seed: 1), bias: nil)
        let original = layer.weight.value.detached()
        let branch = try principalBranch(of: layer, rank: 3, names: ("lora_A", "lora_B"), method: "pissa")
        let rebuilt = layer.weight.value + branch.deltaWeight()
        XCTAssertLessThan(maxRelativeDifference(rebuilt, original), 1e-5)
        XCTAssertEqual(branch.a.weight.shape, [3, 9])
        XCTAssertEqual(branch.b.weight.shape, [12, 3])
    }

    func testTensorSVDResidualPlusTProductIsTheTensor() throws {
        for (n3, n1, n2, rank) in [(6, 5, 4, 1), (7, 4, 6, 2), (4, 3, 3, 3)] {
            let w = randomMatrix([n3, n1, n2], seed: UInt64(n3))
            let factors = try truncatedTensorSVD(w, rank: rank)
            let principal = tProduct(u: factors.u, s: factors.s, v: factors.v)
            let residual = w - principal
            XCTAssertLessThan(maxRelativeDifference(residual + principal, w), 1e-6)
            // With rank = min(n1, n2) the principal part is the whole tensor.
            if rank == min(n1, n2) { XCTAssertLessThan(maxRelativeDifference(principal, w), 1e-4) }
        }
    }

    func testTProductMatchesTheFourierDefinition() throws {
        // Rank-1 t-SVD of a tensor whose every Fourier slice has rank 1 reproduces it.
        let (n3, n1, n2) = (5, 4, 3)
        var rng = RandomGenerator(seed: 4)
        let u = Tensor.normal([1, n3, n1], using: &rng), s = Tensor.normal([1, n3], using: &rng)
        let v = Tensor.normal([1, n3, n2], using: &rng)
        let w = tProduct(u: u, s: s, v: v)
        let factors = try truncatedTensorSVD(w, rank: 1)
        XCTAssertLessThan(maxRelativeDifference(tProduct(u: factors.u, s: factors.s, v: factors.v), w), 1e-4)
        // And the circular convolution agrees with a direct evaluation of one slice.
        var direct = [Float](repeating: 0, count: n1 * n2)
        for k in [2] {
            for j in 0..<n3 {
                // (U * S)_j then * Vᵀ: evaluate the double convolution directly.
                for l in 0..<n3 {
                    let sIndex = ((j - l) % n3 + n3) % n3, vIndex = ((j - k) % n3 + n3) % n3
                    for a in 0..<n1 { for b in 0..<n2 {
                        direct[a * n2 + b] += u[flat: l * n1 + a] * s[flat: sIndex] * v[flat: vIndex * n2 + b]
                    }}
                }
            }
            for i in 0..<(n1 * n2) { XCTAssertEqual(w[flat: k * n1 * n2 + i], direct[i], accuracy: 1e-4) }
        }
    }

    func testLoRAPTRebuildEqualsPretrainedWeights() throws {
        let model = try TinyBackbone.unetr.make()
        let weights = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.detached()) })
        var rng = RandomGenerator(seed: 1)
        let adaptation = try LoRAPT().apply(to: model, rng: &rng)
        adaptation.merge()   // residual + rebuilt principal written back
        for (name, parameter) in model.namedParameters() where name.contains(".attn.") || name.contains(".mlp.") {
            XCTAssertLessThan(maxRelativeDifference(parameter.value, weights[name]!), 1e-4, name)
        }
    }
}

func randomMatrix(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return .normal(shape, using: &rng)
}
