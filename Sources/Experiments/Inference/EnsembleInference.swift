import Backbones
import Foundation
import Tensors

/// How a sweep predicts: the checkpoint ensemble (`CheckpointEnsemble`: the mean over the kept
/// checkpoints' probabilities, the papers' averaging of the last epochs) of tiled inference
/// (`EvaluationSettings.window`), with mirroring TTA when asked, then argmax and the post-processing.
/// The one inference path of the project: a cell's test evaluation, `harness diagnose`'s segmentations
/// and `harness predict` all call it, so an option added here reaches every one of them.
struct EnsembleInference {
    let model: any Backbone
    let settings: EvaluationSettings
    let window: SlidingWindow
    let classes: Int

    init(model: any Backbone, settings: EvaluationSettings, training: TrainingSettings, backbone: BackboneConfig) throws {
        self.model = model
        self.settings = settings
        classes = backbone.outChannels
        let patch = try CellExecution.patchSize(training, backbone)
        window = settings.window(roi: AxisOrder.tensorShape(fromNIfTI: patch))
    }

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
            try CellExecution.postProcess(argmaxLabels(means[n]).values, gridSize: cases[n].gridSize, settings: settings)
        }
    }
}
