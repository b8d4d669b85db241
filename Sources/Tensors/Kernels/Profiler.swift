import Foundation
import Synchronization

/// Optional per-op accounting, switched on by the environment variable `HIPPOPEFT_PROFILE=1`.
///
/// Each op wraps its forward computation and its backward closure in `Profiler.measure`, which adds
/// the wall time and the process CPU time (all our threads, none of other processes') spent inside,
/// minus what nested measured regions took (so a backward that calls other ops is not counted
/// twice). When the variable is unset, `measure` is one predictable branch around the body.
public enum Profiler {
    public enum Phase: String, Sendable { case forward, backward, other }

    public static let isEnabled: Bool = level > 0

    /// 0 (off), 1 (per op kind), 2 (also per shape for the heavy ops: `detail(_:)` labels).
    public static let level: Int = {
        let value = ProcessInfo.processInfo.environment["HIPPOPEFT_PROFILE"] ?? ""
        return Int(value) ?? (value.isEmpty ? 0 : 1)
    }()

    /// Whether heavy ops should label their entries with shapes (HIPPOPEFT_PROFILE=2).
    public static var isDetailed: Bool { level >= 2 }

    public struct Entry: Sendable {
        public var calls = 0
        public var wallSeconds = 0.0
        public var cpuSeconds = 0.0
    }

    private struct Frame { var startWall: UInt64; var startCPU: UInt64; var childWall: UInt64; var childCPU: UInt64 }
    private struct State: ~Copyable {
        var entries: [String: Entry] = [:]
        var stack: [Frame] = []
    }
    private static let state = Mutex(State())

    static func processCPUNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    static func wallNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body`, charging its exclusive time to `kind` in `phase` when profiling is on.
    /// Call it from the thread that runs the model (ops are issued from one task).
    @inline(__always)
    public static func measure<T>(_ kind: StaticString, _ phase: Phase, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        begin()
        defer { end("\(kind)", phase) }
        return try body()
    }

    /// `measure` only at the detailed level (HIPPOPEFT_PROFILE=2), for phases inside a kernel.
    @inline(__always)
    public static func detail<T>(_ kind: StaticString, _ body: () throws -> T) rethrows -> T {
        guard level >= 2 else { return try body() }
        begin()
        defer { end("\(kind)", .other) }
        return try body()
    }

    /// `measure` with a label built at run time (only evaluated when profiling is on).
    @inline(__always)
    public static func measure<T>(label: @autoclosure () -> String, _ phase: Phase, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        begin()
        defer { end(label(), phase) }
        return try body()
    }

    @inline(never)
    private static func begin() {
        let frame = Frame(startWall: wallNanoseconds(), startCPU: processCPUNanoseconds(), childWall: 0, childCPU: 0)
        state.withLock { $0.stack.append(frame) }
    }

    @inline(never)
    private static func end(_ kind: String, _ phase: Phase) {
        let wall = wallNanoseconds(), cpu = processCPUNanoseconds()
        let key = "\(kind)\t\(phase.rawValue)"
        state.withLock { state in
            guard let frame = state.stack.popLast() else { return }
            let totalWall = wall - frame.startWall, totalCPU = cpu &- frame.startCPU
            if !state.stack.isEmpty {
                state.stack[state.stack.count - 1].childWall += totalWall
                state.stack[state.stack.count - 1].childCPU += totalCPU
            }
            var entry = state.entries[key, default: Entry()]
            entry.calls += 1
            entry.wallSeconds += Double(totalWall &- frame.childWall) / 1e9
            entry.cpuSeconds += Double(totalCPU &- frame.childCPU) / 1e9
            state.entries[key] = entry
        }
    }

    /// Wall and CPU seconds spent inside multi-worker `Parallel` regions (profiling only): the rest of
    /// a step's CPU time ran on one thread.
    public static var parallelTotals: (wall: Double, cpu: Double, regions: Int) {
        parallel.withLock { ($0.wall, $0.cpu, $0.regions) }
    }
    private struct ParallelTotals { var wall = 0.0, cpu = 0.0, regions = 0, depth = 0 }
    private static let parallel = Mutex(ParallelTotals())

    @inline(__always)
    static func parallelRegion(_ body: () -> Void) {
        guard isEnabled else { return body() }
        let outer = parallel.withLock { totals -> Bool in totals.depth += 1; return totals.depth == 1 }
        let wall = wallNanoseconds(), cpu = processCPUNanoseconds()
        body()
        let dw = Double(wallNanoseconds() - wall) / 1e9, dc = Double(processCPUNanoseconds() &- cpu) / 1e9
        parallel.withLock { totals in
            totals.depth -= 1
            if outer { totals.wall += dw; totals.cpu += dc; totals.regions += 1 }
        }
    }

    /// Clears the accumulated entries.
    public static func reset() {
        state.withLock { $0.entries.removeAll() }
        parallel.withLock { $0 = ParallelTotals() }
    }

    /// (kind, phase, entry) for every measured region, largest CPU time first.
    public static func snapshot() -> [(kind: String, phase: String, entry: Entry)] {
        state.withLock { state in
            state.entries.map { key, entry in
                let parts = key.split(separator: "\t")
                return (String(parts[0]), String(parts[1]), entry)
            }.sorted { $0.entry.cpuSeconds > $1.entry.cpuSeconds }
        }
    }

    /// A text table of the entries, each divided by `steps`, with shares of `totalCPUSeconds` when given.
    public static func report(steps: Int = 1, totalWallSeconds: Double? = nil, totalCPUSeconds: Double? = nil) -> String {
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + fill : fill + text
        }
        func number(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        let n = Double(max(steps, 1))
        var lines = [pad("op", 22, left: true) + pad("phase", 10, left: true) + pad("calls", 7) + pad("wall ms", 10)
                     + pad("cpu ms", 10) + pad("cpu %", 7)]
        var wallSum = 0.0, cpuSum = 0.0
        for row in snapshot() {
            wallSum += row.entry.wallSeconds; cpuSum += row.entry.cpuSeconds
            let share = totalCPUSeconds.map { 100 * row.entry.cpuSeconds / n / $0 } ?? 0
            lines.append(pad(row.kind, 22, left: true) + pad(row.phase, 10, left: true)
                         + pad(String(row.entry.calls / max(steps, 1)), 7) + pad(number(1000 * row.entry.wallSeconds / n), 10)
                         + pad(number(1000 * row.entry.cpuSeconds / n), 10) + pad(number(share), 7))
        }
        lines.append(pad("sum of measured", 39, left: true) + pad(number(1000 * wallSum / n), 10) + pad(number(1000 * cpuSum / n), 10))
        if let totalWallSeconds, let totalCPUSeconds {
            lines.append(pad("whole step", 39, left: true) + pad(number(1000 * totalWallSeconds), 10)
                         + pad(number(1000 * totalCPUSeconds), 10))
        }
        return lines.joined(separator: "\n")
    }
}
