import Tensors
import XCTest

final class ConvolutionGradientTests: XCTestCase {
    /// Direct definition of PyTorch's conv3d, for value checks.
    private func referenceConv(_ x: Tensor, _ w: Tensor, stride: [Int], padding: [Int]) -> [Float] {
        let (ci, d, h, wd) = (x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let (co, kd, kh, kw) = (w.shape[0], w.shape[2], w.shape[3], w.shape[4])
        let od = (d + 2 * padding[0] - kd) / stride[0] + 1, oh = (h + 2 * padding[1] - kh) / stride[1] + 1
        let ow = (wd + 2 * padding[2] - kw) / stride[2] + 1
        var out = [Float](repeating: 0, count: x.shape[0] * co * od * oh * ow)
        for n in 0..<x.shape[0] { for o in 0..<co { for z in 0..<od { for y in 0..<oh { for xx in 0..<ow {
            var acc: Float = 0
            for c in 0..<ci { for a in 0..<kd { for b in 0..<kh { for e in 0..<kw {
                let iz = z * stride[0] - padding[0] + a, iy = y * stride[1] - padding[1] + b, ix = xx * stride[2] - padding[2] + e
                guard iz >= 0, iz < d, iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                acc += x[flat: (((n * ci + c) * d + iz) * h + iy) * wd + ix] * w[flat: (((o * ci + c) * kd + a) * kh + b) * kw + e]
            }}}}
            out[(((n * co + o) * od + z) * oh + y) * ow + xx] = acc
        }}}}}
        return out
    }

    func testConvForwardMatchesDefinition() {
        let cases: [([Int], [Int], [Int], [Int])] = [  // input, weight, stride, padding
            ([1, 2, 5, 6, 7], [3, 2, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([2, 3, 6, 5, 4], [2, 3, 3, 3, 3], [2, 2, 2], [1, 1, 1]),
            ([1, 2, 4, 4, 4], [4, 2, 1, 1, 1], [1, 1, 1], [0, 0, 0]),
            ([1, 1, 8, 8, 8], [5, 1, 4, 4, 4], [4, 4, 4], [0, 0, 0]),
            ([1, 2, 5, 7, 6], [2, 2, 3, 2, 1], [1, 2, 3], [2, 0, 1]),
        ]
        for (i, (xs, ws, stride, padding)) in cases.enumerated() {
            let x = randomTensor(xs, seed: UInt64(i)), w = randomTensor(ws, seed: UInt64(i + 20))
            let y = conv3d(x, weight: w, bias: nil, stride: stride, padding: padding)
            let expected = referenceConv(x, w, stride: stride, padding: padding)
            XCTAssertEqual(y.count, expected.count)
            for (a, b) in zip(y.values, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    func testConvGradients() {
        let cases: [([Int], [Int], [Int], [Int])] = [
            ([1, 2, 4, 5, 3], [3, 2, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([2, 2, 5, 4, 4], [2, 2, 3, 3, 3], [2, 2, 2], [1, 1, 1]),
            ([1, 3, 3, 3, 3], [2, 3, 1, 1, 1], [1, 1, 1], [0, 0, 0]),
            ([1, 1, 4, 4, 4], [2, 1, 2, 2, 2], [2, 2, 2], [0, 0, 0]),
            ([1, 2, 5, 4, 6], [2, 2, 3, 2, 1], [1, 2, 3], [2, 0, 1]),
        ]
        for (i, (xs, ws, stride, padding)) in cases.enumerated() {
            let x = randomTensor(xs, seed: UInt64(i)), w = randomTensor(ws, seed: UInt64(i + 20))
            let b = randomTensor([ws[0]], seed: UInt64(i + 40))
            checkGradients([x, w, b]) { conv3d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding) }
        }
    }

    /// A decoder's `conv(cat(upsampled, skip))` with a frozen skip branch: only the trainable part's
    /// channels get a data gradient, and it matches finite differences through both consumers.
    func testConvOverAPartlyFrozenConcatenation() {
        let frozenBefore = randomTensor([1, 2, 4, 5, 3], seed: 1), frozenAfter = randomTensor([1, 1, 4, 5, 3], seed: 2)
        let cases: [([Int], [Int], [Int])] = [([3, 6, 3, 3, 3], [1, 1, 1], [1, 1, 1]),  // implicit GEMM
                                              ([2, 6, 1, 1, 1], [1, 1, 1], [0, 0, 0]),  // pointwise
                                              ([2, 6, 3, 3, 3], [2, 2, 2], [1, 1, 1])]  // strided (unfolded)
        for (i, (ws, stride, padding)) in cases.enumerated() {
            let trainable = randomTensor([1, 3, 4, 5, 3], seed: UInt64(10 + i)), w = randomTensor(ws, seed: UInt64(20 + i))
            let pointwise = randomTensor([2, 6, 1, 1, 1], seed: UInt64(30 + i))
            checkGradients([trainable, w]) { inputs in
                let joined = Tensor.concatenate([frozenBefore, inputs[0], frozenAfter], axis: 1)
                let y = conv3d(joined, weight: inputs[1], bias: nil, stride: stride, padding: padding)
                let skip = conv3d(joined, weight: pointwise, bias: nil, stride: stride, padding: [0, 0, 0])
                return y.sum() + skip.sum()
            }
        }
    }

    func testFrozenConcatenationPartsCostNoDataGradientWork() {
        let w = randomTensor([4, 8, 3, 3, 3], seed: 3)
        func backwardFlops(freezingSkip: Bool) -> Int {
            let up = randomTensor([1, 4, 6, 6, 6], seed: 1), skip = randomTensor([1, 4, 6, 6, 6], seed: 2)
            up.setRequiresGrad(true)
            skip.setRequiresGrad(!freezingSkip)
            let y = conv3d(Tensor.concatenate([up, skip], axis: 1), weight: w, bias: nil, padding: [1, 1, 1]).sum()
            KernelCounters.reset()
            y.backward()
            XCTAssertNotNil(up.grad)
            return KernelCounters.flops.load(ordering: .relaxed)
        }
        XCTAssertEqual(backwardFlops(freezingSkip: true) * 2, backwardFlops(freezingSkip: false))
    }

    func testTransposedConvIsTheAdjointOfConv() {
        // <convT(x), y> = <x, conv(y)> for the same weight: checks the forward against conv's definition.
        let w = randomTensor([3, 2, 2, 2, 2], seed: 1)           // [Ci of convT, Co of convT, k…]
        let x = randomTensor([1, 3, 3, 4, 2], seed: 2)
        let up = convTranspose3d(x, weight: w, bias: nil, stride: [2, 2, 2])
        XCTAssertEqual(up.shape, [1, 2, 6, 8, 4])
        let y = randomTensor(up.shape, seed: 3)
        let down = conv3d(y, weight: w, bias: nil, stride: [2, 2, 2])
        let lhs = zip(up.values, y.values).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(x.values, down.values).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)))
    }

    func testTransposedConvGradients() {
        let cases: [([Int], [Int], [Int], [Int])] = [
            ([1, 3, 2, 3, 2], [3, 2, 2, 2, 2], [2, 2, 2], [0, 0, 0]),
            ([2, 2, 3, 2, 3], [2, 3, 3, 3, 3], [2, 2, 2], [1, 1, 1]),
            ([1, 2, 3, 3, 3], [2, 2, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
        ]
        for (i, (xs, ws, stride, padding)) in cases.enumerated() {
            let x = randomTensor(xs, seed: UInt64(i)), w = randomTensor(ws, seed: UInt64(i + 20))
            let b = randomTensor([ws[1]], seed: UInt64(i + 40))
            checkGradients([x, w, b]) { convTranspose3d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding) }
        }
    }

    /// The blocked kernels at realistic channel counts (16- and 8-wide channel blocks, partial tiles,
    /// the few-channel path): forward against the definition, and both gradients through the
    /// adjoint identities <conv(x; w), dy> = <x, dx> = <w, dw>, which hold exactly for a bilinear map.
    func testBlockedConvolutionAtRealisticChannelCounts() {
        let cases: [([Int], [Int], [Int], [Int])] = [  // input, weight, stride, padding
            ([1, 16, 6, 7, 9], [16, 16, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([1, 32, 5, 4, 6], [24, 32, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([2, 5, 5, 6, 4], [20, 5, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([1, 1, 7, 6, 5], [16, 1, 3, 3, 3], [1, 1, 1], [1, 1, 1]),
            ([1, 11, 7, 6, 8], [9, 11, 3, 3, 3], [2, 2, 2], [1, 1, 1]),
            ([1, 8, 6, 6, 6], [40, 8, 3, 3, 3], [1, 1, 1], [0, 0, 0]),
            ([1, 7, 4, 5, 6], [6, 7, 3, 2, 1], [1, 1, 1], [2, 1, 0]),
        ]
        for (i, (xs, ws, stride, padding)) in cases.enumerated() {
            let x = randomTensor(xs, seed: UInt64(100 + i)), w = randomTensor(ws, seed: UInt64(200 + i), scale: 0.2)
            x.setRequiresGrad(true); w.setRequiresGrad(true)
            let y = conv3d(x, weight: w, bias: nil, stride: stride, padding: padding)
            let expected = referenceConv(x, w, stride: stride, padding: padding)
            var worst: Float = 0
            for (a, b) in zip(y.values, expected) { worst = max(worst, abs(a - b)) }
            XCTAssertLessThan(worst, 1e-3, "case \(i): forward differs from the definition by \(worst)")
            let dy = randomTensor(y.shape, seed: UInt64(300 + i))
            (y * dy).sum().backward()
            let outer = zip(y.values, dy.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let viaX = zip(x.values, x.grad!.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let viaW = zip(w.values, w.grad!.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(viaX, outer, accuracy: 1e-3 * max(1, abs(outer)), "case \(i): data gradient")
            XCTAssertEqual(viaW, outer, accuracy: 1e-3 * max(1, abs(outer)), "case \(i): weight gradient")
        }
    }
}
