import Foundation
import PEFTMethods

extension CellPipeline {
    /// Optimizer steps in one epoch over `trainingCases` cases: the spec's count
    /// (`TrainingSettings.stepsPerEpoch`), at least one. A cell's training, the pre-training stage and
    /// `plan`'s estimate all take it from here.
    public func stepsPerEpoch(trainingCases: Int) -> Int { max(1, training.stepsPerEpoch(cases: trainingCases)) }

    /// Optimizer steps of the whole training.
    public func trainingSteps(trainingCases: Int) -> Int { training.epochs * stepsPerEpoch(trainingCases: trainingCases) }

    /// Trains what the method left trainable on random patches of `cases` (the sampler reseeded from
    /// `(seed, epoch)` every epoch), validating on `validation` every `validate_every` epochs.
    /// Checkpoints go to `folder` (nil: none), and a run resumes from the last one there.
    public func train(_ adaptation: Adaptation, cases: [PreparedCase], validation: [PreparedCase], folder: URL?,
                      progress: ((TrainingProgress) -> Void)? = nil) throws -> TrainingOutcome {
        try LabelRange.require(cases + validation, outChannels: classes, backbone: backboneLabel)
        let trainer = Trainer(model: adaptation.model, parameters: adaptation.trainableParameters, settings: training,
                              classes: classes, window: window, seed: seed, folder: folder)
        trainer.onProgress = progress
        var batches = try PatchSampler(cases: cases, options: augmentation, seed: 0)
        let validationCases = training.validateEvery > 0 ? validation.map {
            ValidationCase(id: $0.id, image: $0.imageTensor(), label: $0.labelTensor().reshaped($0.tensorShape))
        } : []
        return try trainer.run(batches: &batches, validation: validationCases,
                               iterationsPerEpoch: stepsPerEpoch(trainingCases: cases.count))
    }

    /// The patch sampler's options from the `training:` section.
    var augmentation: AugmentationOptions {
        var options = AugmentationOptions(patchSize: patchSize, batchSize: training.batchSize,
                                          foregroundRatio: training.foregroundRatio)
        options.flipProbability = training.flips ? 0.5 : 0
        options.intensityScale = training.intensityScale
        options.intensityShift = training.intensityShift
        options.crops = training.crops ?? .centred
        options.intensityDraw = training.intensityDraw ?? .crop
        return options
    }
}
