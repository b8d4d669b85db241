import Foundation
import Synchronization

/// A Float32 buffer, 64-byte aligned. Released buffers go back to `BufferPool` instead of to malloc,
/// so a training step reuses the previous step's activations rather than page-faulting fresh ones.
public final class Storage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Uninitialised storage for `count` floats (from the pool when a buffer of that size is free).
    public init(count: Int) {
        self.count = count
        pointer = BufferPool.shared.take(count: count)
    }

    public convenience init(zeros count: Int) {
        self.init(count: count)
        pointer.update(repeating: 0, count: count)
    }

    deinit { BufferPool.shared.give(pointer, count: count) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// Free lists of buffers keyed by rounded size. Shapes repeat from one training step to the next, so
/// after a warm-up step every request is served from here.
public final class BufferPool: Sendable {
    public static let shared = BufferPool()

    public struct Statistics: Sendable, Equatable {
        /// Buffers obtained from the system allocator since the process started.
        public var freshAllocations = 0
        /// Requests served by a recycled buffer.
        public var reuses = 0
        public var pooledBytes = 0
    }

    private struct State: ~Copyable {
        var free: [Int: [UInt]] = [:]  // addresses, which are Sendable
        var statistics = Statistics()
        var limitBytes = 16 << 30
    }
    private let state = Mutex(State())

    private static func slot(for count: Int) -> Int { max(16, (count + 15) & ~15) }

    func take(count: Int) -> UnsafeMutablePointer<Float> {
        let slot = Self.slot(for: count)
        let recycled: UInt? = state.withLock { state in
            guard let p = state.free[slot]?.popLast() else {
                state.statistics.freshAllocations += 1
                return nil
            }
            state.statistics.reuses += 1
            state.statistics.pooledBytes -= slot * 4
            return p
        }
        let raw = recycled.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: slot * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: slot)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let slot = Self.slot(for: count)
        let address = UInt(bitPattern: pointer)
        let kept = state.withLock { state -> Bool in
            guard state.statistics.pooledBytes + slot * 4 <= state.limitBytes else { return false }
            state.free[slot, default: []].append(address)
            state.statistics.pooledBytes += slot * 4
            return true
        }
        if !kept { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Returns every pooled buffer to the system (e.g. between sweep cells of different sizes).
    public func drain() {
        let buffers = state.withLock { state -> [UInt] in
            let all = state.free.values.flatMap { $0 }
            state.free.removeAll()
            state.statistics.pooledBytes = 0
            return all
        }
        buffers.forEach { UnsafeMutableRawPointer(bitPattern: $0)?.deallocate() }
    }

    /// Caps how many bytes of released buffers are kept for reuse.
    public func setLimit(bytes: Int) { state.withLock { $0.limitBytes = bytes } }
}
