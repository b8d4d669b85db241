import Backbones
import ConfigDecoding
import Foundation
import Tensors

/// Resources a user fixes by hand, from the spec's `slurm:` section or `harness slurm`'s flags
/// (`--time`, `--cpus-per-task`, `--mem`). Each value given wins over what the measurements suggest.
public struct SlurmRequest: Codable, Sendable, Equatable {
    public var time: String?
    public var cpusPerTask: Int?
    public var memory: String?

    public init(time: String? = nil, cpusPerTask: Int? = nil, memory: String? = nil) {
        (self.time, self.cpusPerTask, self.memory) = (time, cpusPerTask, memory)
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case time, cpusPerTask = "cpus_per_task", memory = "mem" }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        time = try read(.time, nil as String?)
        cpusPerTask = try read(.cpusPerTask, nil as Int?)
        memory = try read(.memory, nil as String?)
        try read.require(time.map(Self.isTime) ?? true, .time, Self.timeRule)
        try read.require((1...4096).contains(cpusPerTask ?? 1), .cpusPerTask, "cpus_per_task must be 1 to 4096")
        try read.require(memory.map(Self.isMemory) ?? true, .memory, Self.memoryRule)
    }

    /// This request with every value `other` gives replacing this one's (flags over the spec).
    public func overridden(by other: SlurmRequest) -> SlurmRequest {
        SlurmRequest(time: other.time ?? time, cpusPerTask: other.cpusPerTask ?? cpusPerTask, memory: other.memory ?? memory)
    }

    /// Slurm's forms: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]].
    /// Only digits, `-` and `:`: the value goes into an `#SBATCH` line of a script.
    public static func isTime(_ text: String) -> Bool {
        text.wholeMatch(of: /[0-9]{1,5}(:[0-9]{1,2}){0,2}|[0-9]{1,4}-[0-9]{1,2}(:[0-9]{1,2}){0,2}/) != nil
    }
    public static let timeRule = "time must be Slurm's MINUTES, HH:MM:SS or D-HH[:MM[:SS]], e.g. 2-00:00:00"

    /// A whole number with an optional unit K, M, G or T (Slurm's default unit is M).
    public static func isMemory(_ text: String) -> Bool { text.wholeMatch(of: /[1-9][0-9]{0,8}[KMGT]?/) != nil }
    public static let memoryRule = "mem must be a whole number with an optional unit K, M, G or T, e.g. 24G"
}

/// The `--time`, `--cpus-per-task` and `--mem` a Slurm array task asks for: what the user gave, else what
/// the step measurements of the pending cells say (`derive`), else the old fixed defaults.
public struct SlurmResources: Codable, Sendable, Equatable {
    public var time: String
    public var cpusPerTask: Int
    public var memory: String
    /// How each value was chosen, for `plan` and `slurm` to print.
    public var basis: String

    enum CodingKeys: String, CodingKey { case time, cpusPerTask = "cpus_per_task", memory = "mem", basis }

    /// A cell's measured time is multiplied by this: the machine the step was timed on is rarely the node's
    /// twin, and a task killed at its limit resumes from its last epoch but loses the rest of the epoch.
    public static let timeSafetyFactor = 1.5
    /// The measured peak of one training step is multiplied by this and `memoryHeadroomMB` added: the loaded
    /// training cases, the evaluation and the allocator's slack are not in the measured step.
    public static let memoryMargin = 1.25
    public static let memoryHeadroomMB = 1024.0
    /// Used for what nothing measured or given decides.
    public static let fallback = SlurmRequest(time: "24:00:00", cpusPerTask: 2, memory: "16G")

    /// `seconds` × the safety factor, rounded up to whole hours (at least one), in Slurm's form:
    /// `HH:00:00` below a day, `D-HH:00:00` from a day on.
    public static func time(seconds: Double) -> String {
        let hours = max(1, Int((seconds * timeSafetyFactor / 3600).rounded(.up)))
        return hours < 24 ? String(format: "%02d:00:00", hours) : String(format: "%d-%02d:00:00", hours / 24, hours % 24)
    }

    /// `peakMB` × the margin + the headroom, rounded up to whole GiB: `NG`.
    public static func memory(peakMB: Double) -> String {
        "\(max(1, Int(((peakMB * memoryMargin + memoryHeadroomMB) / 1024).rounded(.up))))G"
    }

    /// The request for array tasks that run `pending` (nil where a cell has no measurement), measured at
    /// `measuredThreads`. A value the user gave wins. When the user asks for fewer cores than the steps were
    /// measured on, the time grows in proportion; when more, it stays (a speed-up is not assumed).
    public static func derive(pending: [CellCost?], measuredThreads: Int?, request: SlurmRequest) -> SlurmResources {
        let measured = pending.isEmpty || pending.contains(where: { $0 == nil }) ? nil : pending.compactMap { $0 }
        let cpus = request.cpusPerTask ?? measuredThreads ?? fallback.cpusPerTask!
        var basis: [String] = []
        var time = fallback.time!, memory = fallback.memory!
        if let given = request.time {
            time = given
            basis.append("time given")
        } else if let measured, let threads = measuredThreads, let longest = measured.map(\.seconds).max() {
            time = Self.time(seconds: longest * Double(max(threads, cpus)) / Double(cpus))
            basis.append("time = the longest pending cell, \(duration(longest)) at \(threads) threads"
                + (cpus < threads ? " (× \(threads)/\(cpus) cores)" : "") + String(format: ", × %.1f", timeSafetyFactor))
        } else {
            basis.append("time not measured: default")
        }
        basis.append(request.cpusPerTask != nil ? "cpus given"
                     : measuredThreads.map { "cpus = the \($0) threads measured" } ?? "cpus not measured: default")
        if let given = request.memory {
            memory = given
            basis.append("mem given")
        } else if let measured, let peak = measured.map(\.peakResidentMB).max() {
            memory = Self.memory(peakMB: peak)
            basis.append(String(format: "mem = the largest step peak, %.0f MB, × %.2f + %.0f MB", peak, memoryMargin, memoryHeadroomMB))
        } else {
            basis.append("mem not measured: default")
        }
        return SlurmResources(time: time, cpusPerTask: cpus, memory: memory, basis: basis.joined(separator: "; "))
    }

    public var text: String { "--time=\(time) --cpus-per-task=\(cpusPerTask) --mem=\(memory) (\(basis))" }
}

/// `harness slurm`'s request per array task: its flags over the spec's `slurm:`, the rest derived from the
/// step measurements that `plan` cached in the results folder (never timed here: a login node is no place
/// for a paper-size step), at the thread count the flags ask for when measured, else the largest measured.
public enum SlurmSizing {
    public static func resources(spec: ExperimentSpec, store: ResultStore,
                                 flags: SlurmRequest) throws -> SlurmResources {
        // The values go into #SBATCH lines: refuse anything but Slurm's forms, one line naming the flag.
        if let time = flags.time, !SlurmRequest.isTime(time) {
            throw SpecError([SpecIssue(file: "--time", path: "", message: SlurmRequest.timeRule + "; got \(String(reflecting: time))")])
        }
        if let memory = flags.memory, !SlurmRequest.isMemory(memory) {
            throw SpecError([SpecIssue(file: "--mem", path: "", message: SlurmRequest.memoryRule + "; got \(String(reflecting: memory))")])
        }
        if let cpus = flags.cpusPerTask, !(1...4096).contains(cpus) {
            throw SpecError([SpecIssue(file: "--cpus-per-task", path: "", message: "give 1 to 4096 CPUs; got \(cpus)")])
        }
        let request = spec.slurm.overridden(by: flags)
        let cache = StepMeasurementCache(store: store)
        let keys = Array(try StepMeasurementCache.keys(for: spec).values)
        guard let threads = cache.threadsCovering(keys: keys, preferred: request.cpusPerTask) else {
            // Nothing measured: no model to build here (a cell whose method cannot be built fails as its own
            // array task, with its own record, not the whole submission).
            return .derive(pending: [], measuredThreads: nil, request: request)
        }
        let plan = try SweepPlan.make(spec: spec, store: store, measure: false, threads: threads, slurm: request, log: { _ in })
        return plan.slurm
    }
}
