import Backbones
import Foundation
import Tensors

/// How a sweep predicts: the mean softmax over checkpoints (the papers' averaging of the last epochs)
/// of sliding-window inference, with mirroring TTA when asked, then argmax and the post-processing.
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
        window = SlidingWindow(roi: AxisOrder.tensorShape(fromNIfTI: patch), overlap: settings.overlap, weighting: settings.weighting)
    }

    /// Post-processed label maps on each case's prepared grid (NIfTI voxel order). `checkpoints` are
    /// loaded in turn by `load` (nil: the model's current weights).
    func labels(for cases: [PreparedCase], checkpoints: [URL?], load: (URL) throws -> Void) throws -> [[Float]] {
        model.eval()
        var sums: [Tensor?] = Array(repeating: nil, count: cases.count)
        for checkpoint in checkpoints {
            if let checkpoint { try load(checkpoint) }
            for (n, c) in cases.enumerated() {
                let image = c.imageTensor()
                let probabilities = withoutGrad { () -> Tensor in
                    let predict = { (x: Tensor) in window.probabilities(for: x, classes: classes) { model($0) } }
                    return settings.flipTTA ? flipAveraged(image, predict) : predict(image)
                }
                sums[n] = sums[n].map { $0 + probabilities } ?? probabilities
            }
        }
        return try cases.indices.map { n in
            try CellExecution.postProcess(argmaxLabels(sums[n]!).values, gridSize: cases[n].gridSize, settings: settings)
        }
    }
}
