import Tensors
import XCTest

/// Results must not depend on the worker count (HIPPOPEFT_THREADS) nor on which worker took which
/// piece: a Slurm task with one CPU must produce the records of a local run on all cores. These tests
/// pin down the two mechanisms, parts fixed by the shapes and reductions summed in part order.
final class ParallelDeterminismTests: XCTestCase {
    func testPartsDependOnTheCountAlone() {
        for (count, grain) in [(1, 1), (7, 2), (100, 2), (1000, 64), (13, 16)] {
            let parts = Parallel.parts(count, grain: grain)
            XCTAssertEqual(parts.first?.lowerBound, 0)
            XCTAssertEqual(parts.last?.upperBound, count)
            XCTAssertLessThanOrEqual(parts.count, Parallel.fixedParts)
            for (a, b) in zip(parts, parts.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        }
        XCTAssertEqual(Parallel.parts(0).count, 0)
        XCTAssertEqual(Parallel.parts(100, grain: 2, maxParts: 3).count, 3)
    }

    /// `reduce` equals the serial sum of each part into its own accumulator, added in part order.
    func testReduceSumsPartsInOrder() {
        let count = 1000, size = 5
        func value(_ i: Int, _ j: Int) -> Float { Float(i % 7 + 1) * 1e-3 + Float(j) * 1e3 / Float(i + 1) }
        var expected = [Float](repeating: 0.25, count: size)
        let parts = Parallel.parts(count, grain: 4)
        var partials = [[Float]](repeating: [Float](repeating: 0, count: size), count: parts.count)
        for (p, range) in parts.enumerated() {
            for i in range { for j in 0..<size { if p == 0 { expected[j] += value(i, j) } else { partials[p][j] += value(i, j) } } }
        }
        for partial in partials.dropFirst() { for j in 0..<size { expected[j] += partial[j] } }
        let target = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { target.deallocate() }
        target.initialize(repeating: 0.25, count: size)
        Parallel.reduce(count, grain: 4, size: size, into: target) { range, destination in
            for i in range { for j in 0..<size { destination[j] += value(i, j) } }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: target, count: size)), expected)
    }

    /// A product large enough to be split is computed in the same parts with any worker count:
    /// it equals its column blocks computed one by one, bit for bit.
    func testSplitProductEqualsItsPartsComputedOneByOne() {
        let (m, n, k) = (64, 512, 128)
        var rng = RandomGenerator(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }, b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        var whole = [Float](repeating: 0, count: m * n), byParts = whole
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            whole.withUnsafeMutableBufferPointer { pc in
                Kernels.gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                             c: pc.baseAddress!, ldc: n)
            }
            byParts.withUnsafeMutableBufferPointer { pc in
                for cols in Parallel.parts(n, grain: 64) {
                    Kernels.gemm(m: m, n: cols.count, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress! + cols.lowerBound,
                                 ldb: n, c: pc.baseAddress! + cols.lowerBound, ldc: n, parallel: false)
                }
            }
        }}
        XCTAssertEqual(whole, byParts)
    }
}
