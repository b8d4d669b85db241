import Tensors
import XCTest

/// The fast convolution kernels (implicit GEMM, patchwise, pointwise) against the vol2col reference,
/// element by element, at the channel counts and volumes the backbones really use: a kernel bug that
/// only shows beyond a tile, a chunk or a worker's piece cannot hide in a summed identity.
final class ConvolutionKernelAgreementTests: XCTestCase {
    private func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }

    private func worstRelative(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map(abs).max() ?? 0, .leastNormalMagnitude)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testFastKernelsAgreeWithVol2Col() {
        let cases: [(ci: Int, co: Int, input: [Int], kernel: [Int], stride: [Int], padding: [Int])] = [
            (24, 24, [16, 16, 16], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (12, 12, [32, 32, 32], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (48, 24, [8, 8, 8], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (1, 12, [32, 32, 32], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (96, 48, [4, 4, 4], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (24, 12, [16, 8, 12], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
            (20, 40, [10, 9, 11], [3, 3, 3], [2, 2, 2], [1, 1, 1]),
            (12, 24, [16, 16, 16], [2, 2, 2], [2, 2, 2], [0, 0, 0]),
            (24, 24, [16, 16, 16], [1, 1, 1], [1, 1, 1], [0, 0, 0]),
        ]
        for (n, c) in cases.enumerated() {
            let g = ConvGeometry(inChannels: c.ci, outChannels: c.co, input: c.input, kernel: c.kernel,
                                 stride: c.stride, padding: c.padding)
            let inputCount = c.ci * c.input.reduce(1, *), outputCount = c.co * g.output.reduce(1, *)
            let weightCount = c.co * c.ci * c.kernel.reduce(1, *)
            let x = random(inputCount, seed: UInt64(10 * n)), w = random(weightCount, seed: UInt64(10 * n + 1))
            let dy = random(outputCount, seed: UInt64(10 * n + 2))
            var fast = [Float](repeating: 0, count: outputCount), slow = fast
            Kernels.convForward(x, weight: w, into: &fast, g)
            Kernels.unfoldedConvForward(x, weight: w, into: &slow, g)
            XCTAssertLessThan(worstRelative(fast, slow), 1e-5, "case \(n) \(c): forward")

            let seedX = random(inputCount, seed: 99), seedW = random(weightCount, seed: 98)
            for overwrite in [true, false] {
                var dx = overwrite ? [Float](repeating: .nan, count: inputCount) : seedX
                var dw = overwrite ? [Float](repeating: .nan, count: weightCount) : seedW
                Kernels.convBackward(x, dy, weight: w, dx: &dx, dw: &dw, g, overwriteData: overwrite, overwriteWeight: overwrite)
                var refX = overwrite ? [Float](repeating: 0, count: inputCount) : seedX
                var refW = overwrite ? [Float](repeating: 0, count: weightCount) : seedW
                Kernels.unfoldedConvBackwardData(dy, weight: w, into: &refX, g)
                Kernels.unfoldedConvBackwardWeight(x, dy, into: &refW, g)
                XCTAssertLessThan(worstRelative(dx, refX), 1e-5, "case \(n) \(c) overwrite \(overwrite): data gradient")
                XCTAssertLessThan(worstRelative(dw, refW), 1e-5, "case \(n) \(c) overwrite \(overwrite): weight gradient")
            }
        }
    }

    /// The AVX-512 tiles (12 × 16, tile pairs in the weight gradient) sum each output's products in the
    /// AVX2 tiles' order, so both give the same bits: odd tile counts, a remainder tap tile of 4 rows,
    /// an 8-wide remainder block, gathered (fewer than 6 channels) and strided tiles.
    func testAVX512TilesGiveTheAVX2Bits() throws {
        try XCTSkipUnless(Kernels.cpuSupportsAVX512, "this CPU has no AVX-512")
        let before = Kernels.usesAVX512
        defer { Kernels.setUsesAVX512(before) }
        let cases: [(ci: Int, co: Int, input: [Int], stride: [Int])] = [
            (16, 16, [13, 11, 9], [1, 1, 1]),
            (12, 24, [8, 8, 7], [1, 1, 1]),
            (5, 20, [9, 7, 10], [1, 1, 1]),
            (18, 40, [10, 9, 11], [2, 2, 2]),
            (48, 16, [6, 5, 7], [1, 1, 1]),
        ]
        for (n, c) in cases.enumerated() {
            let g = ConvGeometry(inChannels: c.ci, outChannels: c.co, input: c.input, kernel: [3, 3, 3],
                                 stride: c.stride, padding: [1, 1, 1])
            let inputCount = c.ci * c.input.reduce(1, *), outputCount = c.co * g.output.reduce(1, *)
            let weightCount = c.co * c.ci * 27
            let x = random(inputCount, seed: UInt64(7 * n)), w = random(weightCount, seed: UInt64(7 * n + 1))
            let dy = random(outputCount, seed: UInt64(7 * n + 2)), seedW = random(weightCount, seed: 5)
            var results: [[[Float]]] = []
            for wide in [false, true] {
                Kernels.setUsesAVX512(wide)
                XCTAssertEqual(Kernels.usesAVX512, wide)
                var y = [Float](repeating: 0, count: outputCount)
                Kernels.convForward(x, weight: w, into: &y, g)
                var dx = [Float](repeating: .nan, count: inputCount), dw = seedW
                Kernels.convBackward(x, dy, weight: w, dx: &dx, dw: &dw, g, overwriteData: true, overwriteWeight: false)
                results.append([y, dx, dw])
            }
            for (part, name) in ["forward", "data gradient", "weight gradient"].enumerated() {
                XCTAssertEqual(results[0][part], results[1][part], "case \(n) \(c): \(name) differs between AVX2 and AVX-512")
            }
        }
    }
}
