import Foundation

/// What one cell costs at a measured step: its training (steps × seconds per step), its test inference
/// (forward passes × seconds per forward), and the core-hours of both at the threads they were measured on.
public struct CellCost: Codable, Sendable, Equatable {
    public var steps: Int
    public var secondsPerStep: Double
    public var trainingSeconds: Double
    public var inferenceSeconds: Double
    public var threads: Int
    /// The measured peak memory of one training step of this cell's configuration, MB.
    public var peakResidentMB: Double

    public var seconds: Double { trainingSeconds + inferenceSeconds }
    /// Seconds × threads / 3600.
    public var coreHours: Double { seconds * Double(threads) / 3600 }

    enum CodingKeys: String, CodingKey {
        case steps, secondsPerStep = "seconds_per_step", trainingSeconds = "training_seconds"
        case inferenceSeconds = "inference_seconds", threads, peakResidentMB = "peak_rss_mb"
    }

    public init(steps: Int, forwards: Int, measurement: StepMeasurement) {
        self.steps = steps
        secondsPerStep = measurement.secondsPerStep
        trainingSeconds = Double(steps) * measurement.secondsPerStep
        inferenceSeconds = Double(forwards) * measurement.secondsPerForward
        threads = measurement.threads
        peakResidentMB = measurement.peakResidentMB
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(steps, forKey: .steps)
        try container.encode(secondsPerStep, forKey: .secondsPerStep)
        try container.encode(trainingSeconds, forKey: .trainingSeconds)
        try container.encode(inferenceSeconds, forKey: .inferenceSeconds)
        try container.encode(threads, forKey: .threads)
        try container.encode(peakResidentMB, forKey: .peakResidentMB)
        var extra = encoder.container(keyedBy: DerivedKeys.self)
        try extra.encode(seconds, forKey: .seconds)
        try extra.encode(coreHours, forKey: .coreHours)
    }

    /// Written for readers of `plan --json`, recomputed on reading.
    enum DerivedKeys: String, CodingKey { case seconds, coreHours = "core_hours" }

    /// "1,000 steps × 49.1 s = 13.6 h, 27.3 core-hours" (inference included in the hours).
    public var text: String {
        "\(steps.formatted(.number)) steps × \(String(format: "%.3g", secondsPerStep)) s"
            + (inferenceSeconds > 0 ? " + test inference" : "") + " = \(duration(seconds)), "
            + String(format: "%.1f core-hours", coreHours)
    }
}

/// Sums over cells.
public enum PlanCost {
    /// The core-hours of `costs`: each cell's seconds × its threads / 3600, summed.
    public static func coreHours(_ costs: [CellCost]) -> Double { costs.map(\.coreHours).reduce(0, +) }
    public static func seconds(_ costs: [CellCost]) -> Double { costs.map(\.seconds).reduce(0, +) }

    /// What `plan` says when a cell has no measured step.
    public static let notMeasured = "costs: not all configurations have a measured step, so no costs are given; "
        + "`harness plan` without --no-measure times one step of each (cached in RESULTS/measurements)"

    public static func howMeasured(threads: Int) -> String {
        "costs: each configuration's training step as timed at \(threads) threads (RESULTS/measurements: median after a "
            + "warm-up, on the machine that ran `plan`) × each cell's steps, + its test inference; core-hours = seconds × \(threads) / 3600"
    }
}
