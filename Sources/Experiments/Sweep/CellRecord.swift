import Foundation
import PEFTMethods
import Volumes

/// The outcome of one cell, written as `RESULTS/cells/<key>.json`. Everything except `timing` is
/// deterministic: the same spec twice gives identical records apart from that field.
public struct CellRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case done, failed }

    /// `total`, `backbone` and `trainable` as MONAI counts them (every registered parameter); `used`
    /// and `trainableUsed` only what the forward pass reads (absent in older records);
    /// `trainablePercent` is trainableUsed / used (older records: trainable / backbone).
    public struct Parameters: Codable, Sendable, Equatable {
        public var total: Int, backbone: Int, trainable: Int
        public var used: Int?, trainableUsed: Int?
        public var trainablePercent: Double

        public init(_ counts: ParameterCounts) {
            (total, backbone, trainable) = (counts.total, counts.backbone, counts.trainable)
            (used, trainableUsed, trainablePercent) = (counts.used, counts.trainableUsed, counts.trainablePercent)
        }

        /// % trainable as the tables show it: trainable used parameters over the backbone's used ones
        /// (the stored percentage for older records, which lack the used counts).
        public var percentOfUsed: Double {
            guard let used, let trainableUsed, used > 0 else { return trainablePercent }
            return 100 * Double(trainableUsed) / Double(used)
        }
    }

    public struct CaseResult: Codable, Sendable, Equatable {
        public var id: String
        public var metrics: SegmentationMetrics
    }

    public struct Timing: Codable, Sendable {
        public var startedAt: Date
        public var finishedAt: Date
        /// Over all the runs that trained the cell, when it was resumed (see `epochSeconds`).
        public var trainingSeconds: Double
        public var inferenceSeconds: Double
        public var peakResidentMB: Double
        public var host: String
        /// Wall time of each epoch, across the runs of a resumed cell; fewer than the epochs when it
        /// resumed from a checkpoint written before checkpoints kept them (absent in older records).
        public var epochSeconds: [Double]?
        /// The CPU's model name and the BLAS kernels (`Kernels.blasDescription`) of the run that
        /// finished the cell: records of the same spec agree bit for bit only under the same BLAS kernels
        /// (absent in older records).
        public var cpu: String?
        public var blas: String?
    }

    public var key: String
    public var spec: String
    public var backbone: String
    public var dataset: String
    public var budget: String
    public var method: String
    public var methodName: String
    public var methodConfiguration: String
    public var seed: UInt64
    public var version: String
    public var status: Status
    /// Why a failed cell failed, and where its log is (Slurm tasks).
    public var failure: String?
    public var log: String?
    public var trainingCases: [String] = []
    public var validationCases: [String] = []
    public var testCases: [String] = []
    public var parameters: Parameters?
    public var history: [EpochRecord] = []
    public var cases: [CaseResult] = []
    public var timing: Timing?

    /// Mean over test cases of a metric of the union of foreground labels (nil values skipped).
    public func mean(_ metric: MetricName) -> Double? { values(metric).mean }

    public func values(_ metric: MetricName) -> [Double] { cases.compactMap { $0.metrics.all[metric] } }
}

extension Array where Element == Double {
    public var mean: Double? { isEmpty ? nil : reduce(0, +) / Double(count) }
    /// Sample standard deviation (n − 1); nil below two values.
    public var standardDeviation: Double? {
        guard count > 1, let m = mean else { return nil }
        return (map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(count - 1)).squareRoot()
    }
}
