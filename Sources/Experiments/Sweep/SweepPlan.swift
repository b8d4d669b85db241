import Backbones
import Foundation
import PEFTMethods
import Tensors

/// `harness plan`: the cells of a spec, what each method trains, and an estimated run time.
public struct SweepPlan: Codable, Sendable {
    public struct PlannedCell: Codable, Sendable {
        public var index: Int
        public var key: String
        public var title: String
        public var done: Bool
        public var trainingCases: Int?
        /// Optimizer steps of the whole training (epochs × steps per epoch).
        public var trainingSteps: Int?
        public var estimatedSeconds: Double?
    }

    public struct MethodCost: Codable, Sendable {
        public var backbone: String
        public var method: String
        public var trainableParameters: Int
        /// Trainable parameters the forward pass reads, as % of the backbone's used parameters.
        public var trainablePercent: Double
        /// Measured seconds per training step at the spec's batch and patch size (nil when not measured).
        public var secondsPerStep: Double?
        public var secondsPerForward: Double?
    }

    public var spec: String
    public var cells: [PlannedCell]
    public var methods: [MethodCost]
    public var estimatedSeconds: Double?
    /// Threads the timings ran on (`HIPPOPEFT_THREADS`), so `estimatedSeconds` converts to core-hours.
    public var threads = Parallel.workers
    public var estimatedCoreHours: Double? { estimatedSeconds.map { $0 * Double(threads) / 3600 } }
    public var pendingCells: Int { cells.filter { !$0.done }.count }
    /// Training steps of the pending cells, for a cost at any measured step time (docs/REPRODUCING.md).
    public var pendingTrainingSteps: Int { cells.filter { !$0.done }.compactMap(\.trainingSteps).reduce(0, +) }

    public static func make(spec: ExperimentSpec, store: ResultStore, measure: Bool,
                            log: (String) -> Void) throws -> SweepPlan {
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        let cells = try runner.cells()
        // Before any model is built or timed: a budget a data set cannot give refuses the whole plan.
        try BudgetCheck.verify(cells: cells, training: spec.training, open: runner.dataset)
        var costs: [String: MethodCost] = [:]
        for backbone in spec.backbones {
            for method in spec.methods {
                // The cell's model, from the random start (the starting weights change no count or time).
                let pipeline = try CellPipeline(backbone: backbone.config, backboneLabel: backbone.label, method: method.method,
                                                seed: 0, startingWeights: nil, training: spec.training, evaluation: spec.evaluation)
                let adaptation = try pipeline.makeModel()
                let counts = try adaptation.parameterCounts()
                var cost = MethodCost(backbone: backbone.label, method: method.label,
                                      trainableParameters: counts.trainable, trainablePercent: counts.trainablePercent)
                if measure {
                    log("timing \(backbone.label) + \(method.label) …")
                    (cost.secondsPerStep, cost.secondsPerForward) = timeSteps(adaptation, settings: spec.training,
                                                                              patch: pipeline.patchSize)
                }
                costs[backbone.label + "\u{1F}" + method.label] = cost
            }
        }
        var planned: [PlannedCell] = []
        for cell in cells {
            let done = (try? store.finishedRecord(cell.key)) != nil
            var entry = PlannedCell(index: cell.index, key: cell.key, title: cell.title, done: done)
            if let dataset = try? runner.dataset(cell.dataset), let ids = try? dataset.training(cell.budget) {
                entry.trainingCases = ids.count
                entry.trainingSteps = try CellPipeline(cell, spec: spec, startingWeights: nil).trainingSteps(trainingCases: ids.count)
                if let cost = costs[cell.backbone.label + "\u{1F}" + cell.method.label], let step = cost.secondsPerStep,
                   let forward = cost.secondsPerForward {
                    let checkpoints = spec.evaluation.checkpoint == .ensemble ? spec.training.keepLast : 1
                    // A test volume takes a few windows; count 4 per case as a rough middle.
                    let inference = Double(dataset.splits.test.count * checkpoints * 4) * forward
                    entry.estimatedSeconds = Double(entry.trainingSteps ?? 0) * step + inference
                }
            }
            planned.append(entry)
        }
        let pending = planned.filter { !$0.done }
        let total = pending.allSatisfy { $0.estimatedSeconds != nil } ? pending.compactMap(\.estimatedSeconds).reduce(0, +) : nil
        return SweepPlan(spec: spec.name, cells: planned, methods: spec.backbones.flatMap { b in
            spec.methods.compactMap { costs[b.label + "\u{1F}" + $0.label] }
        }, estimatedSeconds: total)
    }

    /// Median of three training steps after one warm-up, and one forward pass, on random data.
    private static func timeSteps(_ adaptation: Adaptation, settings: TrainingSettings, patch: [Int]) -> (Double, Double) {
        let model = adaptation.model
        var rng = RandomGenerator(seed: 1)
        let shape = [settings.batchSize, model.config.inChannels] + AxisOrder.tensorShape(fromNIfTI: patch)
        let image = Tensor.normal(shape, using: &rng)
        let label = Tensor(zeros: [settings.batchSize] + AxisOrder.tensorShape(fromNIfTI: patch))
        let optimizer = settings.makeOptimizer(adaptation.trainableParameters)
        settings.prepare(model)
        var times: [Double] = []
        for i in 0..<4 {
            let start = Date()
            optimizer.zeroGrad()
            settings.loss(logits: model(image), labels: label).backward()
            optimizer.step()
            if i > 0 { times.append(Date().timeIntervalSince(start)) }
        }
        model.eval()
        let start = Date()
        _ = withoutGrad { model(image.slice(axis: 0, 0..<1)) }
        return (times.sorted()[1], Date().timeIntervalSince(start))
    }

    public var text: String {
        var lines = ["\(spec): \(cells.count) cells, \(pendingCells) to run"
            + (estimatedSeconds.map { ", about \(duration($0)) on this machine" } ?? "")
            + (estimatedCoreHours.map { String(format: " (%.0f core-hours at %d threads)", $0, threads) } ?? ""),
            "training steps of the pending cells: \(pendingTrainingSteps.formatted(.number))"]
        lines.append("")
        lines.append("trainable parameters (% of the backbone parameters the forward pass uses):")
        for m in methods {
            let step = m.secondsPerStep.map { String(format: ", %.2f s/step", $0) } ?? ""
            lines.append("  \(m.backbone) + \(m.method): \(m.trainableParameters.formatted(.number)) "
                         + "(\(String(format: "%.3f", m.trainablePercent)) %)\(step)")
        }
        lines.append("")
        lines.append("cells:")
        for c in cells {
            let cost = c.estimatedSeconds.map { " ~\(duration($0))" } ?? ""
            let cases = c.trainingCases.map { " (\($0) training cases, \((c.trainingSteps ?? 0).formatted(.number)) steps)" } ?? ""
            lines.append("  [\(c.index)] \(c.done ? "done   " : "pending") \(c.title)\(cases)\(cost)")
        }
        return lines.joined(separator: "\n")
    }
}
