import Backbones
import Foundation
import PEFTMethods
import Tensors

/// `harness plan`: the cells of a spec, what each method trains, and what each cell costs at a measured
/// step (`StepMeasurement`, cached per configuration in `RESULTS/measurements`), with the Slurm request.
public struct SweepPlan: Codable, Sendable {
    public struct PlannedCell: Codable, Sendable {
        public var index: Int
        public var key: String
        public var title: String
        public var done: Bool
        public var trainingCases: Int?
        /// Optimizer steps of the whole training (epochs × steps per epoch).
        public var trainingSteps: Int?
        /// Training and test inference at the measured step of the cell's configuration (nil when not measured).
        public var cost: CellCost?
        public var estimatedSeconds: Double? { cost?.seconds }
    }

    public struct MethodCost: Codable, Sendable {
        public var backbone: String
        public var method: String
        public var trainableParameters: Int
        /// Trainable parameters the forward pass reads, as % of the backbone's used parameters.
        public var trainablePercent: Double
        /// Measured seconds per training step at the spec's batch and patch size (nil when not measured).
        public var secondsPerStep: Double? { measurement?.secondsPerStep }
        public var secondsPerForward: Double? { measurement?.secondsPerForward }
        public var measurement: StepMeasurement?
    }

    public var spec: String
    public var cells: [PlannedCell]
    public var methods: [MethodCost]
    public var estimatedSeconds: Double?
    /// Threads the timings ran on (`HIPPOPEFT_THREADS`), so `estimatedSeconds` converts to core-hours.
    public var threads = Parallel.workers
    /// Core-hours of the pending cells (each cell's seconds × threads / 3600), nil unless every one is measured.
    public var estimatedCoreHours: Double?
    /// What `harness slurm` asks for per array task, for the pending cells.
    public var slurm: SlurmResources
    public var pendingCells: Int { cells.filter { !$0.done }.count }
    /// Training steps of the pending cells, for a cost at any measured step time (docs/REPRODUCING.md).
    public var pendingTrainingSteps: Int { cells.filter { !$0.done }.compactMap(\.trainingSteps).reduce(0, +) }

    /// `measure`: time the configurations without a cached measurement at `threads` (the workers of this
    /// process); false uses cached ones only. `slurm`: the resources the user fixed (spec, flags).
    public static func make(spec: ExperimentSpec, store: ResultStore, measure: Bool,
                            threads: Int = Parallel.workers, slurm: SlurmRequest? = nil, log: (String) -> Void) throws -> SweepPlan {
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        let cells = try runner.cells()
        // Before any model is built or timed: a budget a data set cannot give refuses the whole plan.
        try BudgetCheck.verify(cells: cells, training: spec.training, open: runner.dataset)
        var costs: [String: MethodCost] = [:]
        for backbone in spec.backbones {
            for method in spec.methods {
                // The cell's model, from the random start (the starting weights change no count).
                let pipeline = try CellPipeline(backbone: backbone.config, backboneLabel: backbone.label, method: method.method,
                                                seed: 0, startingWeights: nil, training: spec.training, evaluation: spec.evaluation)
                let counts = try pipeline.makeModel().parameterCounts()
                costs[backbone.label + "\u{1F}" + method.label] = MethodCost(
                    backbone: backbone.label, method: method.label, trainableParameters: counts.trainable,
                    trainablePercent: counts.trainablePercent)
            }
        }
        let timing = StepTiming(spec: spec, cache: StepMeasurementCache(store: store), threads: threads)
        for (id, measurement) in try timing.measurements(measure: measure, log: log) { costs[id]?.measurement = measurement }
        var planned: [PlannedCell] = []
        for cell in cells {
            let done = (try? store.finishedRecord(cell.key)) != nil
            var entry = PlannedCell(index: cell.index, key: cell.key, title: cell.title, done: done)
            if let dataset = try? runner.dataset(cell.dataset), let ids = try? dataset.training(cell.budget) {
                entry.trainingCases = ids.count
                entry.trainingSteps = try CellPipeline(cell, spec: spec, startingWeights: nil).trainingSteps(trainingCases: ids.count)
                if let measurement = costs[cell.backbone.label + "\u{1F}" + cell.method.label]?.measurement {
                    let checkpoints = spec.evaluation.checkpoint == .ensemble ? spec.training.keepLast : 1
                    // A test volume takes a few windows; count 4 per case as a rough middle.
                    entry.cost = CellCost(steps: entry.trainingSteps ?? 0, forwards: dataset.splits.test.count * checkpoints * 4,
                                          measurement: measurement)
                }
            }
            planned.append(entry)
        }
        let pending = planned.filter { !$0.done }
        let measured = pending.allSatisfy { $0.cost != nil } ? pending.compactMap(\.cost) : nil
        return SweepPlan(spec: spec.name, cells: planned, methods: spec.backbones.flatMap { b in
            spec.methods.compactMap { costs[b.label + "\u{1F}" + $0.label] }
        }, estimatedSeconds: measured.map(PlanCost.seconds), threads: threads, estimatedCoreHours: measured.map(PlanCost.coreHours),
            slurm: .derive(pending: pending.map(\.cost), measuredThreads: measured == nil ? nil : threads,
                           request: slurm ?? spec.slurm))
    }

    public var text: String {
        var lines = ["\(spec): \(cells.count) cells, \(pendingCells) to run"
            + (estimatedSeconds.map { ", about \(duration($0)) at \(threads) threads" } ?? "")
            + (estimatedCoreHours.map { String(format: " (%.0f core-hours)", $0) } ?? ""),
            "training steps of the pending cells: \(pendingTrainingSteps.formatted(.number))"]
        lines.append(estimatedCoreHours == nil ? PlanCost.notMeasured : PlanCost.howMeasured(threads: threads))
        lines.append("Slurm request per array task: \(slurm.text)")
        lines.append("")
        lines.append("trainable parameters (% of the backbone parameters the forward pass uses):")
        for m in methods {
            let step = m.measurement.map {
                String(format: ", %.3g s/step (%.3g CPU-s), peak %.0f MB", $0.secondsPerStep, $0.cpuSecondsPerStep, $0.peakResidentMB)
            } ?? ""
            lines.append("  \(m.backbone) + \(m.method): \(m.trainableParameters.formatted(.number)) "
                         + "(\(String(format: "%.3f", m.trainablePercent)) %)\(step)")
        }
        lines.append("")
        lines.append("cells:")
        for c in cells {
            let cases = c.trainingCases.map { " (\($0) training cases, " + (c.cost?.text ?? "\((c.trainingSteps ?? 0).formatted(.number)) steps") + ")" } ?? ""
            lines.append("  [\(c.index)] \(c.done ? "done   " : "pending") \(c.title)\(cases)")
        }
        return lines.joined(separator: "\n")
    }
}
