import Backbones
import Foundation
import PEFTMethods

/// Trains the spec's pre-training stage for one backbone and saves its weights: the whole network
/// trains (full fine-tuning from the stage's seeded random start) on the data set's training pool, with
/// no validation. `SweepRunner` decides when it runs and where its weights go.
struct PretrainingStage {
    let stage: PretrainingSpec
    let backbone: BackboneSpec

    func run(dataset: Dataset, output: URL, folder: URL, progress: ProgressPrinter) throws {
        let report: (TrainingProgress) -> Void = { [progress] in progress.training($0) }
        switch stage.objective {
        case .supervised:
            let pipeline = try pipeline(backbone.config)
            let adaptation = try pipeline.makeModel()
            _ = try pipeline.train(adaptation, cases: try dataset.prepared(try dataset.training(.all)), validation: [],
                                   folder: folder, progress: report)
            try adaptation.model.saveCheckpoint(output, metadata: ["stage": "pretraining", "dataset": dataset.name])
        case .selfSupervised:
            // The same backbone reconstructing its input: an output block of in_channels channels,
            // which the cells, built with the spec's out_channels, re-initialise.
            let channels = backbone.config.inChannels
            let pipeline = try pipeline(backbone.config.withOutChannels(channels))
            let adaptation = try pipeline.makeModel()
            _ = try pipeline.trainInpainting(adaptation, images: try dataset.trainingPoolImages(), options: stage.inpainting,
                                             folder: folder, progress: report)
            try adaptation.model.saveCheckpoint(output, metadata: ["stage": "pretraining", "objective": "self_supervised",
                                                                   "dataset": dataset.name])
            progress.note("\(backbone.label): self-supervised source saved; its cells load every weight but the "
                          + "\(channels)-channel output block '\(adaptation.model.outModuleName)', which they re-initialise "
                          + "with \(backbone.config.outChannels) channels")
        }
    }

    private func pipeline(_ config: BackboneConfig) throws -> CellPipeline {
        try CellPipeline(backbone: config, backboneLabel: backbone.label, method: FullFineTuning(), seed: stage.seed,
                         startingWeights: nil, training: stage.training)
    }
}
