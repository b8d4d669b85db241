import Backbones
import Foundation
import PEFTMethods
import Tensors
import Volumes

/// One cell of a sweep chosen to segment the cohort, and whether it can.
public struct SegmentationCell: Sendable {
    public enum Status: Sendable, Equatable {
        /// Its trained weights are at hand.
        case ready(checkpoints: [URL])
        /// It cannot segment: why, and what to do.
        case unavailable(String)
    }

    public var cell: Cell
    /// Name of the row in the tables (the method label, plus budget/backbone/data set/seed when the
    /// chosen cells differ in them).
    public var label: String
    public var status: Status
    /// The cell's record (its test Dice goes into the tables), when it finished.
    public var record: CellRecord?
}

/// Finds the cells of a finished sweep that `segmentation:` names, and their saved models.
public enum SweepCellLookup {
    /// The selected cells in sweep order. A cell without a record, a failed cell, a cell without saved
    /// checkpoints, and missing pre-trained weights each make that cell `.unavailable` with the reason.
    public static func cells(_ source: SegmentationSourceSpec, sweep: ExperimentSpec) throws -> [SegmentationCell] {
        let store = ResultStore(root: URL(fileURLWithPath: source.results ?? "results/\(sweep.name)"))
        let specURL = URL(fileURLWithPath: source.spec)
        let runner = SweepRunner(spec: sweep, store: store, baseDirectory: specURL.deletingLastPathComponent(),
                                 progress: ProgressPrinter(enabled: false))
        let all = try runner.cells()
        let selected = all.filter { cell in
            (source.budgets.map { $0.map(\.label).contains(cell.budget.label) } ?? true)
                && (source.methods?.contains(cell.method.label) ?? true)
                && (source.backbones?.contains(cell.backbone.label) ?? true)
                && (source.datasets?.contains(cell.dataset.name) ?? true)
                && (source.seeds?.contains(cell.seed) ?? true)
        }
        // Labels: the method, plus each coordinate that varies among the chosen cells.
        func varies(_ value: (Cell) -> String) -> Bool { Set(selected.map(value)).count > 1 }
        let showBudget = varies { $0.budget.label }, showBackbone = varies { $0.backbone.label }
        let showDataset = varies { $0.dataset.name }, showSeed = varies { String($0.seed) }
        let command = "harness run \(source.spec)" + (source.results.map { " --results \($0)" } ?? "")
        let needsPretraining = runner.needsPretraining()

        return try selected.map { cell in
            var parts = [cell.method.label]
            if showBudget { parts.append("budget \(cell.budget.label)") }
            if showBackbone { parts.append(cell.backbone.label) }
            if showDataset { parts.append(cell.dataset.name) }
            if showSeed { parts.append("seed \(cell.seed)") }
            let label = parts.joined(separator: " · ")
            let record = try store.record(cell.key)
            let status: SegmentationCell.Status
            if let record {
                if record.status == .failed {
                    status = .unavailable("the cell failed (\(record.failure ?? "no reason recorded")); fix it and run `\(command)`")
                } else {
                    let folder = store.modelFolder(cell.key)
                    let chosen = savedCheckpoints(in: folder, choice: sweep.evaluation.checkpoint)
                    if chosen.isEmpty {
                        status = .unavailable("no saved model in \(folder.path) (the cell ran before models were kept); "
                                              + "delete \(store.recordURL(cell.key).path) and run `\(command)`")
                    } else if cell.backbone.pretrained == .pretraining && needsPretraining {
                        status = .unavailable("its pre-trained starting weights are missing from \(store.pretrained.path); run `\(command)`")
                    } else {
                        status = .ready(checkpoints: chosen)
                    }
                }
            } else {
                status = .unavailable("not run yet: run `\(command)` first")
            }
            return SegmentationCell(cell: cell, label: label, status: status, record: record)
        }
    }

    /// The checkpoints a finished cell's predictions used, as `keepModel` saved them in `models/<key>/`.
    public static func savedCheckpoints(in folder: URL, choice: EvaluationSettings.CheckpointChoice) -> [URL] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        let chosen: [String]
        switch choice {
        case .ensemble: chosen = files
        case .last: chosen = files.last.map { [$0] } ?? []
        case .best: chosen = files.filter { $0 == "best.safetensors" }
        }
        return chosen.map { folder.appendingPathComponent($0) }
    }
}

/// A finished cell's model, rebuilt by the cell's own `CellPipeline` (backbone, starting weights,
/// method with the same seeded generator) and predicting through it as its test evaluation did: the
/// mean softmax of its saved checkpoints over sliding windows, argmax, and the sweep's post-processing.
/// On the cell's own test cases it reproduces the cell's predictions.
public final class CellSegmenter {
    public let cell: Cell
    public let checkpoints: [URL]
    let pipeline: CellPipeline
    let adaptation: Adaptation

    public var settings: EvaluationSettings { pipeline.evaluation }

    /// `startingWeights`: what `SweepRunner.weights(for: cell.backbone)` gives (nil: random initialisation).
    public init(_ cell: Cell, checkpoints: [URL], sweep: ExperimentSpec, startingWeights: URL?) throws {
        self.cell = cell
        self.checkpoints = checkpoints
        pipeline = try CellPipeline(cell, spec: sweep, startingWeights: startingWeights)
        adaptation = try pipeline.makeModel()
    }

    /// Label maps on each case's prepared grid (NIfTI voxel order).
    public func segment(_ cases: [PreparedCase]) throws -> [[Float]] {
        try pipeline.predict(adaptation, cases: cases, checkpoints: checkpoints)
    }
}

extension SweepCellLookup {
    /// The model of a ready cell, with the sweep's starting weights. Throws for an unavailable cell.
    public static func segmenter(for cell: SegmentationCell, source: SegmentationSourceSpec, sweep: ExperimentSpec) throws -> CellSegmenter {
        guard case .ready(let checkpoints) = cell.status else {
            if case .unavailable(let reason) = cell.status { throw DiagnosisError.invalidInput("\(cell.label): \(reason)") }
            fatalError("unreachable")
        }
        let store = ResultStore(root: URL(fileURLWithPath: source.results ?? "results/\(sweep.name)"))
        let runner = SweepRunner(spec: sweep, store: store, baseDirectory: URL(fileURLWithPath: source.spec).deletingLastPathComponent(),
                                 progress: ProgressPrinter(enabled: false))
        return try CellSegmenter(cell.cell, checkpoints: checkpoints, sweep: sweep, startingWeights: try runner.weights(for: cell.cell.backbone))
    }
}

/// Dice of two label maps' foregrounds (label > 0); 1 when both are empty.
func foregroundDice(_ a: [Float], _ b: [Float]) -> Double {
    var both = 0, sizeA = 0, sizeB = 0
    for (x, y) in zip(a, b) {
        let p = x > 0, q = y > 0
        if p { sizeA += 1 }
        if q { sizeB += 1 }
        if p && q { both += 1 }
    }
    return sizeA + sizeB == 0 ? 1 : 2 * Double(both) / Double(sizeA + sizeB)
}
