import Dispatch
import Foundation
import CBLAS
import Synchronization

/// Parallelism lives inside kernels: a model runs on one task, and each heavy kernel splits its work
/// over `Parallel.workers` Dispatch workers. OpenBLAS runs single-threaded inside those workers, so
/// the two never oversubscribe the cores (and OpenBLAS's spinning pool never steals one).
public enum Parallel {
    /// Worker count: `HIPPOPEFT_THREADS` if set, else the number of active cores.
    public static let workers: Int = {
        openblas_set_num_threads(1)
        if let text = ProcessInfo.processInfo.environment["HIPPOPEFT_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Pieces per worker when there is enough work: the workers claim pieces as they finish, so a
    /// worker that another process preempts does not leave the other waiting at the end with half of
    /// the work still to do (static halves did; the machine is shared).
    /// `HIPPOPEFT_PIECES_PER_WORKER` overrides it (1 = one static piece per worker).
    static let piecesPerWorker: Int = {
        if let text = ProcessInfo.processInfo.environment["HIPPOPEFT_PIECES_PER_WORKER"], let n = Int(text), n > 0 {
            return n
        }
        return 4
    }()

    /// Calls `body` on contiguous sub-ranges of `0..<count`, in parallel when there is enough work.
    /// `grain` is the smallest range worth a worker of its own. Workers claim pieces as they finish, so
    /// `body` must give the same result whichever worker runs a range (disjoint outputs).
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        run(count, grain: grain, piecesPerWorker: piecesPerWorker) { _, range in body(range) }
    }

    /// Like `forEach`, but each call also gets its worker's index (0..<workers), for per-worker
    /// scratch space: calls with the same index never run at the same time. Worker w always gets the
    /// same contiguous range (the w-th of `workers`), so per-worker partial sums, added up in worker
    /// order, give identical results run after run; claimed pieces would make every reduction's
    /// rounding depend on timing (same spec, same machine, different weights).
    public static func forEachWorker(_ count: Int, grain: Int = 1, _ body: (_ worker: Int, Range<Int>) -> Void) {
        run(count, grain: grain, piecesPerWorker: 1, body)
    }

    private static func run(_ count: Int, grain: Int, piecesPerWorker: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
        let units = count / max(grain, 1)
        let threads = min(workers, units)
        if threads <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        let pieces = min(units, threads * piecesPerWorker)
        if pieces == threads {
            Profiler.parallelRegion {
                withoutActuallyEscaping(body) { body in
                    let task = UncheckedSendable(body)
                    DispatchQueue.concurrentPerform(iterations: threads) { worker in
                        task.value(worker, (count * worker / threads)..<(count * (worker + 1) / threads))
                    }
                }
            }
            return
        }
        let next = PieceCounter()
        Profiler.parallelRegion {
            withoutActuallyEscaping(body) { body in
                let task = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    while true {
                        let piece = next.claim()
                        if piece >= pieces { break }
                        task.value(worker, (count * piece / pieces)..<(count * (piece + 1) / pieces))
                    }
                }
            }
        }
    }
}

/// The next unclaimed piece of a parallel loop.
private final class PieceCounter: Sendable {
    private let value = Atomic<Int>(0)
    func claim() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Carries a closure or pointer into Dispatch workers. Unchecked because the kernels that use it
/// hand each worker a disjoint range of the buffers it touches.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
