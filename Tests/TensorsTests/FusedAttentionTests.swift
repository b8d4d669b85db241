import Tensors
import XCTest

/// The fused path of `scaledDotProductAttention` (bias and mask broadcast over the batch axes, as
/// window attention uses them) against finite differences and against the unfused composition.
final class FusedAttentionTests: XCTestCase {
    func testGradientsWithWindowBias() {
        let q = randomTensor([2, 3, 2, 4, 5], seed: 21), k = randomTensor([2, 3, 2, 4, 5], seed: 22)
        let v = randomTensor([2, 3, 2, 4, 3], seed: 23)
        checkGradients([q, k, v, randomTensor([3, 2, 4, 4], seed: 24)]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.7, bias: $0[3])
        }
        checkGradients([q, k, v, randomTensor([2, 4, 4], seed: 25)]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.7, bias: $0[3])
        }
        checkGradients([q, k, v]) { scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.7) }
    }

    /// Many bias slots (summed slot-major by the workers) and a long batch, against matmul + softmax.
    func testMatchesComposition() {
        let q = randomTensor([3, 16, 2, 7, 4], seed: 31), k = randomTensor([3, 16, 2, 9, 4], seed: 32)
        let v = randomTensor([3, 16, 2, 9, 6], seed: 33), bias = randomTensor([16, 2, 7, 9], seed: 34)
        let gy = randomTensor([3, 16, 2, 7, 6], seed: 35)
        assertFusedMatchesComposition(q, k, v, bias: bias, mask: nil, gradient: gy, scale: 0.5)
    }

    /// A per-head bias and a per-window mask with a singleton head axis, as shifted-window attention
    /// passes them: the mask is added to the scores but gets no gradient.
    func testBiasAndMaskBroadcastOverDifferentAxes() {
        let q = randomTensor([2, 3, 2, 4, 5], seed: 41), k = randomTensor([2, 3, 2, 4, 5], seed: 42)
        let v = randomTensor([2, 3, 2, 4, 3], seed: 43), bias = randomTensor([2, 4, 4], seed: 44)
        let mask = Tensor((0..<48).map { $0 % 5 == 0 ? -100 : 0 }, shape: [3, 1, 4, 4])
        checkGradients([q, k, v, bias]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.7, bias: $0[3], mask: mask)
        }
        let gy = randomTensor([2, 3, 2, 4, 3], seed: 45)
        assertFusedMatchesComposition(q, k, v, bias: bias, mask: mask, gradient: gy, scale: 0.5)
    }

    /// Heads of multiples of 8 channels take the row-by-row kernels (key counts that are not a multiple
    /// of 8 exercise their padding): finite differences, and the composition with bias and mask.
    func testRowwisePathWithBiasAndMask() {
        let q = randomTensor([1, 2, 2, 3, 8], seed: 61), k = randomTensor([1, 2, 2, 5, 8], seed: 62)
        let v = randomTensor([1, 2, 2, 5, 16], seed: 63)
        let mask = Tensor((0..<30).map { $0 % 4 == 0 ? -100 : 0 }, shape: [2, 1, 3, 5])
        checkGradients([q, k, v, randomTensor([2, 3, 5], seed: 64)]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.4, bias: $0[3], mask: mask)
        }
        let (bq, bk, bv) = (randomTensor([2, 9, 2, 11, 8], seed: 65), randomTensor([2, 9, 2, 37, 8], seed: 66),
                            randomTensor([2, 9, 2, 37, 8], seed: 67))
        let bias = randomTensor([9, 2, 11, 37], seed: 68), gy = randomTensor([2, 9, 2, 11, 8], seed: 69)
        let windowMask = Tensor((0..<(9 * 11 * 37)).map { $0 % 7 == 0 ? -100 : 0 }, shape: [9, 1, 11, 37])
        assertFusedMatchesComposition(bq, bk, bv, bias: bias, mask: windowMask, gradient: gy, scale: 0.3)
    }

    /// The row kernels count their products like the BLAS path: the composition's work plus the
    /// backward's recomputed scores.
    func testRowwisePathCountsItsWork() {
        let (tq, tk, d, dv) = (11, 13, 8, 16)
        let q = randomTensor([2, tq, d], seed: 71), k = randomTensor([2, tk, d], seed: 72), v = randomTensor([2, tk, dv], seed: 73)
        func flops(_ fused: Bool) -> Int {
            for t in [q, k, v] { t.setRequiresGrad(true); t.clearGrad() }
            KernelCounters.reset()
            let y = fused ? scaledDotProductAttention(query: q, key: k, value: v, scale: 0.5)
                : matmul(softmax(matmul(q, k, transposeB: true) * 0.5, axis: -1), v)
            y.sum().backward()
            return KernelCounters.flops.load(ordering: .relaxed)
        }
        XCTAssertEqual(flops(true), flops(false) + 2 * 2 * tq * tk * d)
    }

    /// Training through the fused op keeps O(tokens) per entry, not the tq × tk attention weights.
    func testKeepsNoScoreSizedBuffersForTheBackward() {
        let (entries, t) = (6, 64)
        let q = randomTensor([entries, t, 4], seed: 51), k = randomTensor([entries, t, 4], seed: 52)
        let v = randomTensor([entries, t, 4], seed: 53)
        for x in [q, k, v] { x.setRequiresGrad(true) }
        let before = BufferPool.shared.statistics.tensorBytes
        let y = scaledDotProductAttention(query: q, key: k, value: v, scale: 0.5)
        let kept = BufferPool.shared.statistics.tensorBytes - before
        XCTAssertLessThan(kept, entries * t * t * 4 / 4, "bytes kept after the forward")
        y.sum().backward()
        XCTAssertNotNil(q.grad)
    }

    /// The output and every gradient of the fused op against matmul + softmax, to 1e-5 of each one's largest value.
    /// On AVX-512 the 8-row blocks and the softmax's exponentials run 16 lanes wide (WideKernels) and
    /// must give the AVX2 path's bits: heads of 8 (no wide part), 16 and 32 (wide only) and 24 channels
    /// (wide plus an 8-column rest), padded key rows that end on and off a multiple of 16, and query
    /// counts that leave single rows after the blocks. Also the plain softmax, which shares the rows.
    func testAVX512RowsGiveTheAVX2Bits() throws {
        try XCTSkipUnless(Kernels.cpuSupportsAVX512, "this CPU has no AVX-512")
        let before = Kernels.usesAVX512
        defer { Kernels.setUsesAVX512(before) }
        for (n, (tq, tk, d)) in [(19, 37, 16), (8, 40, 24), (27, 27, 32), (11, 50, 8)].enumerated() {
            let seed = UInt64(100 + 10 * n)
            let q = randomTensor([2, 2, tq, d], seed: seed), k = randomTensor([2, 2, tk, d], seed: seed + 1)
            let v = randomTensor([2, 2, tk, d], seed: seed + 2), bias = randomTensor([2, tq, tk], seed: seed + 3)
            let mask = Tensor((0..<(2 * tq * tk)).map { $0 % 6 == 0 ? -100 : 0 }, shape: [2, 1, tq, tk])
            let gy = randomTensor([2, 2, tq, d], seed: seed + 4)
            var results: [[[Float]]] = []
            for wide in [false, true] {
                Kernels.setUsesAVX512(wide)
                for t in [q, k, v, bias] { t.setRequiresGrad(true); t.clearGrad() }
                let y = scaledDotProductAttention(query: q, key: k, value: v, scale: 0.3, bias: bias, mask: mask)
                (y * gy).sum().backward()
                let plain = softmax(bias * 3, axis: -1)
                results.append([y.detached().values, plain.values] + [q, k, v, bias].map { $0.grad!.values })
            }
            for (part, name) in ["output", "softmax", "dQ", "dK", "dV", "dBias"].enumerated() {
                XCTAssertEqual(results[0][part], results[1][part], "case \(n) (\(tq), \(tk), \(d)): \(name) differs between AVX2 and AVX-512")
            }
        }
    }

    private func assertFusedMatchesComposition(_ q: Tensor, _ k: Tensor, _ v: Tensor, bias: Tensor, mask: Tensor?,
                                               gradient gy: Tensor, scale: Float, line: UInt = #line) {
        func run(_ fused: Bool) -> [[Float]] {
            for t in [q, k, v, bias] { t.setRequiresGrad(true); t.clearGrad() }
            let y: Tensor
            if fused {
                y = scaledDotProductAttention(query: q, key: k, value: v, scale: scale, bias: bias, mask: mask)
            } else {
                var scores = matmul(q, k, transposeB: true) * scale + bias
                if let mask { scores = scores + mask }
                y = matmul(softmax(scores, axis: -1), v)
            }
            (y * gy).sum().backward()
            return [y.detached().values] + [q, k, v, bias].map { $0.grad!.values }
        }
        for (a, b) in zip(run(true), run(false)) {
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!, 1e-5, line: line)
        }
    }
}
