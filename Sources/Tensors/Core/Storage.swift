import Foundation
import Synchronization

/// A Float32 buffer, 64-byte aligned. Released buffers go back to `BufferPool` instead of to malloc,
/// so a training step reuses the previous step's activations rather than page-faulting fresh ones.
public final class Storage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Floats actually reserved (a recycled buffer may be somewhat larger than `count`).
    let capacity: Int

    /// Uninitialised storage for `count` floats (from the pool when a buffer of about that size is free).
    public init(count: Int) {
        self.count = count
        (pointer, capacity) = BufferPool.shared.take(count: count)
    }

    public convenience init(zeros count: Int) {
        self.init(count: count)
        pointer.update(repeating: 0, count: count)
    }

    deinit { BufferPool.shared.give(pointer, count: count, capacity: capacity) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// Free lists of buffers keyed by rounded size. Shapes repeat from one training step to the next, so
/// after a few warm-up steps every request is served from here. A request takes the smallest free
/// buffer that holds it and is at most `slack` times its size (best fit), so that temporaries of
/// similar sizes share buffers instead of each size keeping its own: what the pool holds, not only
/// what is live, counts in the process's resident memory. So held memory (live + pooled) is kept
/// within an eighth above the most tensor bytes ever live at once where it can be: a request that
/// would take it past that first returns free buffers (largest first) to the system. Without this
/// rule a paper-size step held 17 GB for 11.8 GB live: every size a step ever freed stayed resident.
/// Past the budget a request takes a larger free buffer than the slack allows only when that buffer
/// is under `heapBufferBytes`: returning a small buffer to the system would not free its pages, but a
/// small tensor in a large buffer keeps the large one's pages resident and out of reach of the next
/// large request, which then needs a fresh buffer (that way SwinUNETR's paper-size step held 12.6 GB
/// of buffers for 7.5 GB of tensors).
public final class BufferPool: Sendable {
    public static let shared = BufferPool()

    public struct Statistics: Sendable, Equatable {
        /// Buffers obtained from the system allocator since the process started.
        public var freshAllocations = 0
        /// Requests served by a recycled buffer.
        public var reuses = 0
        /// Free buffers returned to the system to make room for a fresh allocation.
        public var evictions = 0
        public var pooledBytes = 0
        /// Bytes of buffers handed out and not yet returned.
        public var liveBytes = 0
        /// The largest `liveBytes`, and the largest live + pooled total, since the last `resetPeaks()`.
        public var peakLiveBytes = 0
        public var peakHeldBytes = 0
        /// Bytes of the live tensors themselves (a recycled buffer may be larger), and their most ever at
        /// once (never reset): held memory stays within an eighth above that.
        public var tensorBytes = 0
        public var largestTensorBytes = 0
    }

    private struct State: ~Copyable {
        var free: [Int: [UInt]] = [:]  // addresses, which are Sendable
        var sizes: [Int] = []          // keys of `free` with buffers, ascending
        var statistics = Statistics()
        var limitBytes = 16 << 30
    }
    private let state = Mutex(State())
    /// Read on every release, so an atomic rather than a second trip through the lock.
    private let poisoning = Atomic(ProcessInfo.processInfo.environment["HIPPOPEFT_POISON_FREED"] == "1")

    /// Largest ratio of a recycled buffer's size to the request it serves.
    static let slack = 1.5
    /// Held memory may exceed the most tensor bytes ever live by 1/this, so that the sizes a step frees
    /// settle into a pool that serves the next steps without new allocations.
    static let headroomDivisor = 8

    /// Buffers smaller than this come from the C allocator's heap, which keeps their pages when they
    /// are freed; larger ones are mapped and unmapped (glibc's mmap threshold, at most 32 MiB).
    static let heapBufferBytes = 32 << 20

    private static func slot(for count: Int) -> Int { max(16, (count + 15) & ~15) }

    func take(count: Int) -> (UnsafeMutablePointer<Float>, capacity: Int) {
        let slot = Self.slot(for: count)
        var evicted: [UInt] = []
        let recycled: (UInt, Int)? = state.withLock { state in
            // Smallest free size ≥ slot (binary search).
            var lo = 0, hi = state.sizes.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if state.sizes[mid] < slot { lo = mid + 1 } else { hi = mid }
            }
            let fits = lo < state.sizes.count
            let heldAfterFresh = state.statistics.liveBytes + state.statistics.pooledBytes + slot * 4
            state.statistics.tensorBytes += count * 4
            state.statistics.largestTensorBytes = max(state.statistics.largestTensorBytes, state.statistics.tensorBytes)
            let budget = state.statistics.largestTensorBytes + state.statistics.largestTensorBytes / Self.headroomDivisor
            if fits && (state.sizes[lo] <= Int(Double(slot) * Self.slack)
                        || heldAfterFresh > budget && state.sizes[lo] * 4 < Self.heapBufferBytes) {
                return Self.reuse(sizeAt: lo, from: &state)
            }
            if heldAfterFresh > budget {
                evicted = Self.evict(bytes: heldAfterFresh - budget, from: &state)
            }
            state.statistics.freshAllocations += 1
            Self.count(liveBytes: slot * 4, in: &state)
            return nil
        }
        evicted.forEach { UnsafeMutableRawPointer(bitPattern: $0)?.deallocate() }
        if let (address, size) = recycled {
            return (UnsafeMutableRawPointer(bitPattern: address)!.bindMemory(to: Float.self, capacity: size), size)
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: slot * 4, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: slot), slot)
    }

    /// Takes one free buffer of the size at `index` of `sizes` out of the free lists.
    private static func popFree(sizeAt index: Int, from state: inout State) -> UInt {
        let size = state.sizes[index]
        let address = state.free[size]!.removeLast()
        if state.free[size]!.isEmpty {
            state.free[size] = nil
            state.sizes.remove(at: index)
        }
        return address
    }

    private static func reuse(sizeAt index: Int, from state: inout State) -> (UInt, Int) {
        let size = state.sizes[index]
        let address = popFree(sizeAt: index, from: &state)
        state.statistics.reuses += 1
        state.statistics.pooledBytes -= size * 4
        count(liveBytes: size * 4, in: &state)
        return (address, size)
    }

    private static func count(liveBytes bytes: Int, in state: inout State) {
        state.statistics.liveBytes += bytes
        state.statistics.peakLiveBytes = max(state.statistics.peakLiveBytes, state.statistics.liveBytes)
        state.statistics.peakHeldBytes = max(state.statistics.peakHeldBytes,
                                             state.statistics.liveBytes + state.statistics.pooledBytes)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int, capacity: Int) {
        let address = UInt(bitPattern: pointer)
        if poisonsFreedBuffers { pointer.update(repeating: .nan, count: capacity) }
        let kept = state.withLock { state -> Bool in
            state.statistics.liveBytes -= capacity * 4
            state.statistics.tensorBytes -= count * 4
            guard state.statistics.pooledBytes + capacity * 4 <= state.limitBytes else { return false }
            if state.free[capacity] == nil {
                var lo = 0, hi = state.sizes.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if state.sizes[mid] < capacity { lo = mid + 1 } else { hi = mid }
                }
                state.sizes.insert(capacity, at: lo)
            }
            state.free[capacity, default: []].append(address)
            state.statistics.pooledBytes += capacity * 4
            return true
        }
        if !kept { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    /// Takes free buffers worth at least `bytes` (or all there are) out of the pool, largest first, for
    /// the caller to deallocate outside the lock.
    private static func evict(bytes: Int, from state: inout State) -> [UInt] {
        var evicted: [UInt] = [], freed = 0
        while freed < bytes, let size = state.sizes.last {
            evicted.append(popFree(sizeAt: state.sizes.count - 1, from: &state))
            freed += size * 4
        }
        state.statistics.pooledBytes -= freed
        state.statistics.evictions += evicted.count
        return evicted
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Starts the peak counters again from the current levels.
    public func resetPeaks() {
        state.withLock { state in
            state.statistics.peakLiveBytes = state.statistics.liveBytes
            state.statistics.peakHeldBytes = state.statistics.liveBytes + state.statistics.pooledBytes
        }
    }

    /// Returns every pooled buffer to the system (e.g. between sweep cells of different sizes).
    public func drain() {
        let buffers = state.withLock { state -> [UInt] in
            let all = state.free.values.flatMap { $0 }
            state.free.removeAll()
            state.sizes.removeAll()
            state.statistics.pooledBytes = 0
            return all
        }
        buffers.forEach { UnsafeMutableRawPointer(bitPattern: $0)?.deallocate() }
    }

    /// Fills every released buffer with NaN (also on with HIPPOPEFT_POISON_FREED=1), so that a backward
    /// closure reading a tensor it did not keep alive produces NaN instead of plausible stale values.
    public var poisonsFreedBuffers: Bool {
        get { poisoning.load(ordering: .relaxed) }
        set { poisoning.store(newValue, ordering: .relaxed) }
    }

    /// Caps how many bytes of released buffers are kept for reuse.
    public func setLimit(bytes: Int) { state.withLock { $0.limitBytes = bytes } }
}
