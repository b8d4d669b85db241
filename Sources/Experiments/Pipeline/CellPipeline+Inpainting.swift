import Foundation
import PEFTMethods
import Tensors

extension CellPipeline {
    /// Trains masked-volume inpainting (`MaskedInpainting`): what the method left trainable (the whole
    /// network, for the pre-training stage) reconstructs random augmented crops of `images` from their
    /// masked copies, under an L1 loss over the masked voxels (or all of them: `loss_over`). The backbone
    /// must have as many output channels as input channels. No validation; checkpoints and resume as
    /// `train`.
    public func trainInpainting(_ adaptation: Adaptation, images: [PreparedCase], options: InpaintingOptions, folder: URL?,
                                progress: ((TrainingProgress) -> Void)? = nil) throws -> TrainingOutcome {
        guard backbone.outChannels == backbone.inChannels else {
            throw DataError.invalidSpec(dataset: images.first?.dataset ?? "pretraining", field: "out_channels",
                                        reason: "inpainting reconstructs the image: needs out_channels = in_channels (\(backbone.inChannels))")
        }
        let trainer = Trainer(model: adaptation.model, parameters: adaptation.trainableParameters, settings: training,
                              classes: classes, window: window, seed: seed, folder: folder)
        trainer.onProgress = progress
        trainer.lossFunction = { output, label in
            let (target, mask) = InpaintingBatches.split(label)
            return l1Loss(prediction: output, target: target, mask: options.lossOver == .masked ? mask : nil)
        }
        var batches = InpaintingBatches(crops: try PatchSampler(cases: images, options: augmentation, seed: 0), options: options)
        return try trainer.run(batches: &batches, validation: [], iterationsPerEpoch: stepsPerEpoch(trainingCases: images.count))
    }
}
