import Backbones
import Foundation
import Tensors
import Volumes

/// How a sweep predicts: the checkpoint ensemble (`CheckpointEnsemble`: the mean over the kept
/// checkpoints' probabilities, the papers' averaging of the last epochs) of tiled inference
/// (`EvaluationSettings.window`), with mirroring TTA when asked, then argmax and the post-processing.
/// The one inference path of the project, the last stage of `CellPipeline` (`predict`): a cell's test
/// evaluation, `harness diagnose`'s segmentations and `harness predict` all reach it there, so an
/// option added here reaches every one of them.
struct EnsembleInference {
    let model: any Backbone
    let settings: EvaluationSettings
    /// The pipeline's window: its patch size tiled as `settings` say.
    let window: SlidingWindow
    let classes: Int

    /// Post-processed label maps on each case's prepared grid (NIfTI voxel order). `checkpoints` are
    /// loaded in turn by `load` (nil: the model's current weights).
    func labels(for cases: [PreparedCase], checkpoints: [URL?], load: (URL) throws -> Void) throws -> [[Float]] {
        model.eval()
        let means = try CheckpointEnsemble(settings).predict(cases: cases.count, checkpoints: checkpoints, load: load) { n in
            let image = cases[n].imageTensor()
            return withoutGrad { () -> Tensor in
                let predict = { (x: Tensor) in window.probabilities(for: x, classes: classes) { model($0) } }
                return settings.flipTTA ? flipAveraged(image, predict) : predict(image)
            }
        }
        return try cases.indices.map { n in
            try Self.postProcess(argmaxLabels(means[n]).values, gridSize: cases[n].gridSize, settings: settings)
        }
    }

    /// The papers' post-processing: drop components under N voxels (6-connectivity), keep the largest k.
    static func postProcess(_ labels: [Float], gridSize: [Int], settings: EvaluationSettings) throws -> [Float] {
        guard settings.minimumComponent != nil || settings.keepLargest != nil else { return labels }
        guard let grid = Grid3D(shape: gridSize) else { return labels }
        var map = labels.map { Int32($0) }
        if let minimum = settings.minimumComponent {
            map = MaskMorphology.removeSmallComponents(labelMap: map, grid: grid, minimumSize: minimum, connectivity: .six)
        }
        if let count = settings.keepLargest {
            map = MaskMorphology.keepLargestComponents(labelMap: map, grid: grid, count: count, connectivity: .six)
        }
        return map.map(Float.init)
    }
}
