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
        let units = count / max(grain, 1)
        let threads = min(workers, units)
        if threads <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        let pieces = min(units, threads * piecesPerWorker)
        Profiler.parallelRegion {
            SpinningPool.shared.run(pieces: pieces, threads: threads) { worker, piece in
                body(worker, (count * piece / pieces)..<(count * (piece + 1) / pieces))
            }
        }
    }
}

extension Parallel {
    /// The parts a small loop is cut into: as many as its units allow, up to 8. Every CPU-scale work
    /// has always been cut this way, so its results stay what they were, bit for bit.
    public static let smallWorkParts = 8

    /// The parts of `0..<count` that `forEachPart` and `reduce` use: contiguous ranges of at least
    /// `grain`, `smallParts` of them (at most `smallWorkParts`, as many as the work allows) or, when
    /// more, one per `span` elements: the number grows with the work, without a cap, so a paper-size
    /// work has parts for every core of a large node. Fixed by the shapes alone, never by the worker
    /// count, so results are the same on 1 or 64 workers.
    public static func parts(_ count: Int, grain: Int = 1, span: Int, smallParts: Int = smallWorkParts) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let n = max(1, min(count / max(grain, 1), max(smallParts, count / max(span, 1))))
        return (0..<n).map { (count * $0 / n)..<(count * ($0 + 1) / n) }
    }

    /// Like `forEach`, but `body` always gets the same ranges whatever the worker count (one worker
    /// runs them in turn), for kernels whose result depends on the shape of the piece they are given
    /// (OpenBLAS's sgemm does: a product split in two differs in the last bits from the whole).
    public static func forEachPart(_ count: Int, grain: Int = 1, span: Int, smallParts: Int = smallWorkParts,
                                   _ body: (Range<Int>) -> Void) {
        let ranges = UncheckedSendable(parts(count, grain: grain, span: span, smallParts: smallParts))
        forEach(ranges.value.count) { indices in
            for index in indices { body(ranges.value[index]) }
        }
    }

    /// Sums contributions over `0..<count` into `target` (`size` floats) so that the result depends on
    /// neither the worker count nor which worker took which piece: `body(part, destination)` adds the
    /// contribution of one part (`parts(count, grain:, span:, smallParts:)`) to `destination`, which is `target`
    /// for the first part and a zeroed buffer of its own for each other part; the buffers are then
    /// added to `target` in part order. (Per-worker accumulators made a training run differ from the
    /// same run repeated, and from a run with another thread count.)
    /// Each part beyond the first costs a zeroed buffer of `size` floats, so choose `span` to keep
    /// those small next to the part's work and the memory they take together.
    public static func reduce(_ count: Int, grain: Int = 1, span: Int, smallParts: Int = smallWorkParts, size: Int,
                              into target: UnsafeMutablePointer<Float>,
                              _ body: (_ part: Range<Int>, _ destination: UnsafeMutablePointer<Float>) -> Void) {
        let ranges = parts(count, grain: grain, span: span, smallParts: smallParts)
        guard ranges.count > 1 else {
            if let range = ranges.first { body(range, target) }
            return
        }
        let buffers = (1..<ranges.count).map { _ in Storage(zeros: size) }
        let destinations = UncheckedSendable([target] + buffers.map(\.pointer))
        forEach(ranges.count) { indices in
            for index in indices { body(ranges[index], destinations.value[index]) }
        }
        for buffer in buffers { Kernels.add(buffer.pointer, into: target, count: size) }
    }
}

/// Carries a closure or pointer into Dispatch workers. Unchecked because the kernels that use it
/// hand each worker a disjoint range of the buffers it touches.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
