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
    /// `grain` is the smallest range worth a worker of its own.
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        forEachWorker(count, grain: grain) { _, range in body(range) }
    }

    /// Like `forEach`, but each call also gets its worker's index (0..<workers), for per-worker
    /// scratch space: calls with the same index never run at the same time.
    public static func forEachWorker(_ count: Int, grain: Int = 1, _ body: (_ worker: Int, Range<Int>) -> Void) {
        forEachPiece(count, grain: grain) { _, worker, range in body(worker, range) }
    }

    /// How many pieces `forEachPiece` cuts `count` units into (the same on every call).
    public static func pieceCount(_ count: Int, grain: Int = 1) -> Int {
        let units = count / max(grain, 1)
        let threads = min(workers, units)
        return threads <= 1 ? (count > 0 ? 1 : 0) : min(units, threads * piecesPerWorker)
    }

    /// Sums contributions into `target` (`size` floats) in a fixed order: each piece of `0..<count`
    /// adds into its own buffer (the first into `target` itself) and the buffers are added in piece
    /// order. Whichever worker runs which piece, the result has the same bits — run-to-run
    /// determinism that per-worker buffers lose once workers claim pieces dynamically.
    public static func reduce(_ count: Int, grain: Int = 1, into target: UnsafeMutablePointer<Float>, size: Int,
                              _ body: (_ worker: Int, Range<Int>, _ target: UnsafeMutablePointer<Float>) -> Void) {
        let partials = (1..<max(1, pieceCount(count, grain: grain))).map { _ in Storage(zeros: size) }
        let pointers = UncheckedSendable(partials.map(\.pointer))
        forEachPiece(count, grain: grain) { piece, worker, range in
            body(worker, range, piece == 0 ? target : pointers.value[piece - 1])
        }
        for partial in partials { Kernels.add(partial.pointer, into: target, count: size) }
    }

    /// Calls `body` on the fixed pieces of `0..<count` (numbered in order), claimed by the workers
    /// as they finish; calls with the same worker index never run at the same time.
    public static func forEachPiece(_ count: Int, grain: Int = 1, _ body: (_ piece: Int, _ worker: Int, Range<Int>) -> Void) {
        let pieces = pieceCount(count, grain: grain)
        if pieces <= 1 {
            if count > 0 { body(0, 0, 0..<count) }
            return
        }
        let threads = min(workers, pieces)
        let next = PieceCounter()
        Profiler.parallelRegion {
            withoutActuallyEscaping(body) { body in
                let task = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    while true {
                        let piece = next.claim()
                        if piece >= pieces { break }
                        task.value(piece, worker, (count * piece / pieces)..<(count * (piece + 1) / pieces))
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
