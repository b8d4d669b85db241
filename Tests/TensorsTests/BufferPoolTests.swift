@testable import Tensors
import XCTest

/// What the pool keeps counts in the process's memory as much as live tensors do, so held memory
/// (live + pooled) stays within an eighth of the most tensor bytes ever live at once, and repeated work still
/// finds its buffers.
final class BufferPoolTests: XCTestCase {
    private var held: Int { BufferPool.shared.statistics.liveBytes + BufferPool.shared.statistics.pooledBytes }

    /// On a pool of its own, so what earlier tests left in the shared one does not matter.
    func testHeldMemoryStaysNearTheMostTensorBytesEverLive() {
        let pool = BufferPool()
        defer { pool.drain() }
        var stats: BufferPool.Statistics { pool.statistics }
        let mb = 262_144  // floats
        // 4 MB live, then freed: 4 MB pooled, the most tensor bytes ever 4 MB.
        let small = pool.take(count: 4 * mb)
        pool.give(small.0, count: 4 * mb, capacity: small.capacity)
        // 12 MB wanted and no free buffer holds it: a fresh one would hold 16 MB, past 12 × 9/8 = 13.5,
        // so the 4 MB buffer goes back to the system first.
        let large = pool.take(count: 12 * mb)
        XCTAssertEqual(stats.evictions, 1)
        XCTAssertEqual(stats.pooledBytes, 0)
        XCTAssertEqual(stats.liveBytes, 12 * mb * 4)
        pool.give(large.0, count: 12 * mb, capacity: large.capacity)
        // 4 MB wanted again: the 12 MB buffer is past the 1.5× best fit, but a fresh buffer would take
        // held memory to 16 MB, so the larger one serves.
        let again = pool.take(count: 4 * mb)
        XCTAssertEqual(again.capacity, large.capacity)
        XCTAssertEqual(stats.freshAllocations, 2)
        XCTAssertLessThanOrEqual(stats.peakHeldBytes, 12 * mb * 4 * 9 / 8)
        pool.give(again.0, count: 4 * mb, capacity: again.capacity)
    }

    func testRepeatedWorkStopsAllocatingOnceThePoolSettles() {
        // Sizes 1, 3, 9, ... MB live together, then freed, round after round: once the pool has settled
        // (a few rounds: what earlier tests left in it is reshaped), every request finds its buffer, so
        // keeping held memory down does not turn into allocating every round.
        func round() { withExtendedLifetime((0..<6).map { Storage(count: 262_144 * Int(pow(3.0, Double($0)))) }) {} }
        for _ in 0..<3 { round() }
        let before = BufferPool.shared.statistics
        round(); round()
        XCTAssertEqual(BufferPool.shared.statistics.freshAllocations, before.freshAllocations)
        XCTAssertEqual(BufferPool.shared.statistics.evictions, before.evictions)
    }
}
