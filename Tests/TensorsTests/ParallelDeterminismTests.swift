import Tensors
import XCTest

/// Results must not depend on the worker count (HIPPOPEFT_THREADS) nor on which worker took which
/// piece: a Slurm task with one CPU must produce the records of a local run on all cores. These tests
/// pin down the two mechanisms, parts fixed by the shapes and reductions summed in part order.
final class ParallelDeterminismTests: XCTestCase {
    func testPartsDependOnTheCountAlone() {
        for (count, grain) in [(1, 1), (7, 2), (100, 2), (1000, 64), (13, 16)] {
            let parts = Parallel.parts(count, grain: grain, span: .max)
            XCTAssertEqual(parts.first?.lowerBound, 0)
            XCTAssertEqual(parts.last?.upperBound, count)
            XCTAssertLessThanOrEqual(parts.count, Parallel.smallWorkParts)
            for (a, b) in zip(parts, parts.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        }
        XCTAssertEqual(Parallel.parts(0, span: 1).count, 0)
        XCTAssertEqual(Parallel.parts(100, grain: 2, span: .max, smallParts: 3).count, 3)
    }

    /// No constant caps the parts: beyond 8 they grow with the work, one per `span` elements.
    func testPartsGrowWithTheWork() {
        XCTAssertEqual(Parallel.parts(1_000_000, grain: 64, span: 10_000).count, 100)
        XCTAssertEqual(Parallel.parts(1_000_000, grain: 64, span: 1_000).count, 1000)
        XCTAssertEqual(Parallel.parts(60_000, grain: 64, span: 10_000).count, 8, "small works keep their 8 parts")
        XCTAssertEqual(Parallel.parts(200, grain: 64, span: 1).count, 3, "never below the grain")
    }

    /// `reduce` equals the serial sum of each part into its own accumulator, added in part order.
    func testReduceSumsPartsInOrder() {
        let count = 1000, size = 5
        func value(_ i: Int, _ j: Int) -> Float { Float(i % 7 + 1) * 1e-3 + Float(j) * 1e3 / Float(i + 1) }
        var expected = [Float](repeating: 0.25, count: size)
        let parts = Parallel.parts(count, grain: 4, span: .max)
        var partials = [[Float]](repeating: [Float](repeating: 0, count: size), count: parts.count)
        for (p, range) in parts.enumerated() {
            for i in range { for j in 0..<size { if p == 0 { expected[j] += value(i, j) } else { partials[p][j] += value(i, j) } } }
        }
        for partial in partials.dropFirst() { for j in 0..<size { expected[j] += partial[j] } }
        let target = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { target.deallocate() }
        target.initialize(repeating: 0.25, count: size)
        Parallel.reduce(count, grain: 4, span: .max, size: size, into: target) { range, destination in
            for i in range { for j in 0..<size { destination[j] += value(i, j) } }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: target, count: size)), expected)
    }

    /// A large reduction (100 parts) equals each part summed into its own accumulator, added in part
    /// order: what a run on any worker count computes.
    func testLargeReductionSumsItsManyPartsInOrder() {
        let count = 100_000, size = 3, span = 1000
        func value(_ i: Int, _ j: Int) -> Float { Float(i % 13 + 1) * 1e-4 + Float(j + 1) * 1e2 / Float(i + 1) }
        let parts = Parallel.parts(count, span: span)
        XCTAssertEqual(parts.count, 100)
        var expected = [Float](repeating: 0, count: size)
        var partials = [[Float]](repeating: [Float](repeating: 0, count: size), count: parts.count)
        for (p, range) in parts.enumerated() {
            for i in range { for j in 0..<size { if p == 0 { expected[j] += value(i, j) } else { partials[p][j] += value(i, j) } } }
        }
        for partial in partials.dropFirst() { for j in 0..<size { expected[j] += partial[j] } }
        var serial = [Float](repeating: 0, count: size)
        for i in 0..<count { for j in 0..<size { serial[j] += value(i, j) } }
        XCTAssertNotEqual(serial, expected, "the test must see the order of the sums")
        let target = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { target.deallocate() }
        target.initialize(repeating: 0, count: size)
        Parallel.reduce(count, span: span, size: size, into: target) { range, destination in
            for i in range { for j in 0..<size { destination[j] += value(i, j) } }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: target, count: size)), expected)
    }

    /// A product large enough to be split is computed in the same parts with any worker count:
    /// it equals its column blocks computed one by one, bit for bit.
    func testSplitProductEqualsItsPartsComputedOneByOne() {
        // The second product is split into more than 8 parts (2^30 multiply-adds: 16).
        for (m, n, k) in [(64, 512, 128), (64, 1 << 18, 64)] {
            checkSplitProduct(m: m, n: n, k: k)
        }
    }

    private func checkSplitProduct(m: Int, n: Int, k: Int) {
        var rng = RandomGenerator(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }, b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        var whole = [Float](repeating: 0, count: m * n), byParts = whole
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            whole.withUnsafeMutableBufferPointer { pc in
                Kernels.gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                             c: pc.baseAddress!, ldc: n)
            }
            byParts.withUnsafeMutableBufferPointer { pc in
                let parts = Parallel.parts(n, grain: 64, span: max(1, Kernels.gemmPartWork / (m * k)))
                XCTAssertEqual(parts.count, max(8, m * n * k / Kernels.gemmPartWork))
                for cols in parts {
                    Kernels.gemm(m: m, n: cols.count, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress! + cols.lowerBound,
                                 ldb: n, c: pc.baseAddress! + cols.lowerBound, ldc: n, parallel: false)
                }
            }
        }}
        XCTAssertEqual(whole, byParts)
    }
}
