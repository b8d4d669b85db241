import Backbones
import Foundation
import PEFTMethods
import Tensors
import Volumes

/// Finds a finished sweep's saved models (`cells`, in Diagnosis, selects the cells that segment a cohort).
public enum SweepCellLookup {
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
