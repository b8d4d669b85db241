import Foundation
import PEFTMethods

extension CellPipeline {
    /// The last stage: post-processed label maps of `cases` on their prepared grids (NIfTI voxel order),
    /// the model's predictions averaged over `checkpoints` (`EnsembleInference`; nil: the weights in
    /// place). A checkpoint is a cell's saved weights (`TrainingCheckpoint`) unless `load` says otherwise.
    public func predict(_ adaptation: Adaptation, cases: [PreparedCase], checkpoints: [URL?],
                        load: ((URL) throws -> Void)? = nil) throws -> [[Float]] {
        let model = adaptation.model
        let inference = EnsembleInference(model: model, settings: evaluation, window: window, classes: classes)
        return try inference.labels(for: cases, checkpoints: checkpoints,
                                    load: load ?? { try TrainingCheckpoint.loadWeights($0, into: model) })
    }
}
