@testable import Tensors
import XCTest

/// What the pool keeps counts in the process's memory as much as live tensors do, so held memory
/// (live + pooled) stays within an eighth of the most tensor bytes ever live at once, and repeated work still
/// finds its buffers.
final class BufferPoolTests: XCTestCase {
    private var held: Int { BufferPool.shared.statistics.liveBytes + BufferPool.shared.statistics.pooledBytes }

    /// On a pool of its own, so what earlier tests left in the shared one does not matter. Buffers of
    /// `unit` = 8 MiB, so the large ones are past the heap's size (`BufferPool.heapBufferBytes`).
    func testHeldMemoryStaysNearTheMostTensorBytesEverLive() {
        let pool = BufferPool()
        defer { pool.drain() }
        var stats: BufferPool.Statistics { pool.statistics }
        let unit = BufferPool.heapBufferBytes / 16  // floats
        // 4 units live, then freed: 4 pooled, the most tensor bytes ever 4 units.
        let small = pool.take(count: 4 * unit)
        pool.give(small.0, count: 4 * unit, capacity: small.capacity)
        // 12 units wanted and no free buffer holds it: a fresh one would hold 16, past 12 × 9/8 = 13.5,
        // so the 4-unit buffer goes back to the system first.
        let large = pool.take(count: 12 * unit)
        XCTAssertEqual(stats.evictions, 1)
        XCTAssertEqual(stats.pooledBytes, 0)
        XCTAssertEqual(stats.liveBytes, 12 * unit * 4)
        pool.give(large.0, count: 12 * unit, capacity: large.capacity)
        // 4 units wanted again: the 12-unit buffer is past the 1.5× best fit, and a fresh buffer beside
        // it would take held memory to 16, so the 12-unit one goes back to the system and a 4-unit one
        // serves (in the 12-unit one, its pages would stay resident for a tensor a third its size).
        let again = pool.take(count: 4 * unit)
        XCTAssertEqual(again.capacity, 4 * unit)
        XCTAssertEqual(stats.freshAllocations, 3)
        XCTAssertEqual(stats.evictions, 2)
        XCTAssertEqual(stats.liveBytes + stats.pooledBytes, 4 * unit * 4)
        XCTAssertLessThanOrEqual(stats.peakHeldBytes, 12 * unit * 4 * 9 / 8)
        pool.give(again.0, count: 4 * unit, capacity: again.capacity)
    }

    /// The same sequence with heap-sized buffers: freeing the larger one would not give its pages back,
    /// so past the budget the larger free buffer serves the smaller request.
    func testPastTheBudgetASmallRequestTakesALargerHeapBuffer() {
        let pool = BufferPool()
        defer { pool.drain() }
        let mb = 262_144  // floats
        let large = pool.take(count: 3 * mb)
        pool.give(large.0, count: 3 * mb, capacity: large.capacity)
        let small = pool.take(count: 1 * mb)
        XCTAssertEqual(small.capacity, large.capacity)
        XCTAssertEqual(pool.statistics.freshAllocations, 1)
        XCTAssertEqual(pool.statistics.evictions, 0)
        pool.give(small.0, count: 1 * mb, capacity: small.capacity)
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
