import Dispatch
import Synchronization
import Tensors

/// `transform` over `items` on `Parallel.workers` threads, results in order; the first error (in item
/// order) is thrown.
package func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) throws -> R) throws -> [R] {
    let results = Mutex<[Int: Result<R, any Error>]>([:])
    let next = Atomic<Int>(0)
    let workers = min(Parallel.workers, max(items.count, 1))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let n = next.add(1, ordering: .relaxed).oldValue
            guard n < items.count else { return }
            let result = Result { try transform(items[n]) }
            results.withLock { $0[n] = result }
        }
    }
    return try results.withLock { table in try items.indices.map { try table[$0]!.get() } }
}
