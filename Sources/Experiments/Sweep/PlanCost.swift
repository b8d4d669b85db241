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

    /// Training + inference.
    public var seconds: Double
    /// Seconds × threads / 3600.
    public var coreHours: Double

    enum CodingKeys: String, CodingKey {
        case steps, secondsPerStep = "seconds_per_step", trainingSeconds = "training_seconds"
        case inferenceSeconds = "inference_seconds", threads, peakResidentMB = "peak_rss_mb", seconds, coreHours = "core_hours"
    }

    public init(steps: Int, forwards: Int, measurement: StepMeasurement) {
        self.steps = steps
        secondsPerStep = measurement.secondsPerStep
        trainingSeconds = Double(steps) * measurement.secondsPerStep
        inferenceSeconds = Double(forwards) * measurement.secondsPerForward
        threads = measurement.threads
        peakResidentMB = measurement.peakResidentMB
        seconds = trainingSeconds + inferenceSeconds
        coreHours = seconds * Double(threads) / 3600
    }

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
