import Backbones
import Foundation
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

/// A finished cell's model, rebuilt as `CellExecution` built it (backbone, starting weights, method with
/// the same seeded generator), predicting as its test evaluation did (`EnsembleInference`): the mean
/// softmax of its saved checkpoints over sliding windows, argmax, and the sweep's post-processing. On
/// the cell's own test cases it reproduces the cell's predictions.
public final class CellSegmenter {
    public let cell: Cell
    public let settings: EvaluationSettings
    public let checkpoints: [URL]
    let model: any Backbone
    let inference: EnsembleInference

    /// `startingWeights`: what `SweepRunner.weights(for: cell.backbone)` gives (nil: random initialisation).
    public init(_ cell: Cell, checkpoints: [URL], sweep: ExperimentSpec, startingWeights: URL?) throws {
        self.cell = cell
        self.checkpoints = checkpoints
        settings = sweep.evaluation
        model = try makeBackbone(cell.backbone.config, seed: cell.seed)
        if let startingWeights { try CellExecution.loadStartingWeights(startingWeights, into: model) }
        var rng = RandomGenerator(seed: cell.seed, stream: "method")
        _ = try cell.method.method.apply(to: model, rng: &rng)
        inference = try EnsembleInference(model: model, settings: settings, training: sweep.training, backbone: cell.backbone.config)
    }

    /// Label maps on each case's prepared grid (NIfTI voxel order).
    public func segment(_ cases: [PreparedCase]) throws -> [[Float]] {
        try inference.labels(for: cases, checkpoints: checkpoints) { try TrainingCheckpoint.loadWeights($0, into: model) }
    }
}
