import Dispatch
import Foundation
import Synchronization

/// The helper threads of `Parallel.forEachWorker`: they keep polling for the next parallel region
/// for `HIPPOPEFT_SPIN_US` microseconds (default 1000; 0, or more workers than cores, sleeps at once)
/// after each one before they sleep.
///
/// Why: a training step runs hundreds of parallel regions a few milliseconds apart. A helper that
/// sleeps between them leaves its virtual CPU idle, the hypervisor of a shared host hands the core to
/// another guest, and waking the helper then waits for the host to schedule it again: measured on a
/// 2-vCPU host with 45 % steal time, Dispatch's workers gave a SwinUNETR paper-size step 1.14 cores
/// where PyTorch's spinning OpenMP pool got 1.49 (docs/PERFORMANCE.md). OpenMP runtimes spin the same
/// way (Intel's 200 ms by default); 1 ms covers the gaps between one step's regions.
///
/// A region is a counter of pieces: every participant, the calling thread first, claims pieces until
/// none is left, and the caller returns once every piece has finished. So a helper that arrives late
/// finds nothing to claim and never waits for, nor delays, anyone; and results do not depend on who
/// ran which piece (the pieces are fixed by the loop).
final class SpinningPool: @unchecked Sendable {
    static let shared = SpinningPool(helpers: Parallel.workers - 1)

    /// One parallel loop's pieces and body.
    private final class Region: @unchecked Sendable {
        let pieces: Int
        private let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        /// Cleared by the caller once every piece has finished, before its closure's scope ends.
        var body: ((_ worker: Int, _ piece: Int) -> Void)?

        init(pieces: Int, body: @escaping (_ worker: Int, _ piece: Int) -> Void) {
            self.pieces = pieces
            self.body = body
        }

        func work(_ worker: Int) {
            while true {
                let piece = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if piece >= pieces { return }
                run(worker, piece)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }

        /// Its own frame, so that the closure's copy is released before the piece counts as finished.
        @inline(never)
        private func run(_ worker: Int, _ piece: Int) { body!(worker, piece) }
    }

    private struct Published {
        var generation = 0
        var region: Region?
        var sleeping: [Bool]
    }

    private let helpers: Int
    private let spinNanoseconds: UInt64
    /// Polled by spinning helpers; moves on when a region is published.
    private let generation = Atomic<Int>(0)
    private let published: Mutex<Published>
    private let wakeups: [DispatchSemaphore]
    /// Held by the one caller whose region the helpers serve; nested or concurrent callers run on
    /// Dispatch instead.
    private let inUse = Atomic<Bool>(false)

    private init(helpers: Int) {
        self.helpers = max(0, helpers)
        let micros = ProcessInfo.processInfo.environment["HIPPOPEFT_SPIN_US"].flatMap { UInt64($0) } ?? 1000
        // More workers than cores: a spinning helper would hold a core another worker needs.
        let oversubscribed = self.helpers + 1 > ProcessInfo.processInfo.activeProcessorCount
        spinNanoseconds = oversubscribed ? 0 : micros * 1000
        published = Mutex(Published(sleeping: Array(repeating: false, count: self.helpers)))
        wakeups = (0..<self.helpers).map { _ in DispatchSemaphore(value: 0) }
        for index in 0..<self.helpers {
            let thread = Thread { [unowned self] in self.serve(helper: index) }
            thread.stackSize = 8 << 20
            thread.name = "hippopeft-worker-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(worker, piece)` for every piece in `0..<pieces`: on the caller and the helpers, or,
    /// nested in or concurrent with another caller's region, on `threads` Dispatch workers.
    func run(pieces: Int, threads: Int, _ body: (_ worker: Int, _ piece: Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let region = Region(pieces: pieces, body: body)
            if helpers > 0, inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                let toWake: [Int] = published.withLock { state in
                    state.region = region
                    state.generation += 1
                    generation.store(state.generation, ordering: .releasing)
                    let sleepers = state.sleeping.indices.filter { state.sleeping[$0] }
                    for index in sleepers { state.sleeping[index] = false }
                    return sleepers
                }
                for index in toWake { wakeups[index].signal() }
                region.work(0)
                while region.finished.load(ordering: .acquiring) < pieces {}
                published.withLock { $0.region = nil }
                inUse.store(false, ordering: .releasing)
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { worker in region.work(worker) }
            }
            region.body = nil
        }
    }

    private func serve(helper index: Int) {
        var seen = 0
        while true {
            if generation.load(ordering: .acquiring) == seen && !spinUntilPublished(after: seen) {
                let sleep = published.withLock { state -> Bool in
                    guard state.generation == seen else { return false }
                    state.sleeping[index] = true
                    return true
                }
                if sleep { wakeups[index].wait() }
                continue
            }
            let (current, region) = published.withLock { ($0.generation, $0.region) }
            seen = current
            region?.work(index + 1)
        }
    }

    /// Polls `generation` until it moves past `seen` (true) or the spin time is over (false).
    private func spinUntilPublished(after seen: Int) -> Bool {
        guard spinNanoseconds > 0 else { return false }
        let deadline = DispatchTime.now().uptimeNanoseconds + spinNanoseconds
        var polls = 0
        while generation.load(ordering: .acquiring) == seen {
            polls += 1
            if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { return false }
        }
        return true
    }
}
