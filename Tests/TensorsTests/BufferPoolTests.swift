import Tensors
import XCTest

/// What the pool keeps counts in the process's memory as much as live tensors do, so held memory
/// (live + pooled) stays within an eighth of the most tensor bytes ever live at once, and repeated work still
/// finds its buffers.
final class BufferPoolTests: XCTestCase {
    private var held: Int { BufferPool.shared.statistics.liveBytes + BufferPool.shared.statistics.pooledBytes }

    func testHeldMemoryStaysNearTheMostTensorBytesEverLive() throws {
        let largest = BufferPool.shared.statistics.largestTensorBytes
        try XCTSkipIf(largest > 1 << 30, "an earlier test left a pool too large to outgrow here")
        // A new peak of live memory, freed into the pool; then a request three times its size that no
        // free buffer serves. Without eviction, held memory would be the old peak plus the new request.
        let first = largest / 4 + 2_000_000
        withExtendedLifetime(Storage(count: first)) {}
        let before = BufferPool.shared.statistics
        let second = Storage(count: 3 * first)
        let after = BufferPool.shared.statistics
        XCTAssertGreaterThan(after.freshAllocations, before.freshAllocations)
        XCTAssertGreaterThan(after.evictions, before.evictions)
        XCTAssertLessThan(held, before.liveBytes + before.pooledBytes + 3 * first * 4)
        XCTAssertLessThanOrEqual(held, after.largestTensorBytes + after.largestTensorBytes / 8)
        withExtendedLifetime(second) {}
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
