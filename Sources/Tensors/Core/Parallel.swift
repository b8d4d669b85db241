import Dispatch
import Foundation
import CBLAS

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

    /// Calls `body` on contiguous sub-ranges of `0..<count`, in parallel when there is enough work.
    /// `grain` is the smallest range worth a worker of its own.
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(workers, count / max(grain, 1))
        if parts <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        Profiler.parallelRegion {
            withoutActuallyEscaping(body) { body in
                let task = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let start = count * part / parts, end = count * (part + 1) / parts
                    task.value(start..<end)
                }
            }
        }
    }

    /// Like `forEach`, but each worker also gets its index (0..<workers), for per-worker scratch space.
    public static func forEachWorker(_ count: Int, grain: Int = 1, _ body: (_ worker: Int, Range<Int>) -> Void) {
        let parts = min(workers, count / max(grain, 1))
        if parts <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        Profiler.parallelRegion {
            withoutActuallyEscaping(body) { body in
                let task = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let start = count * part / parts, end = count * (part + 1) / parts
                    task.value(part, start..<end)
                }
            }
        }
    }
}

/// Carries a closure or pointer into Dispatch workers. Unchecked because the kernels that use it
/// hand each worker a disjoint range of the buffers it touches.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
