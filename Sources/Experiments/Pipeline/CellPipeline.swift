import Backbones
import Foundation
import PEFTMethods

/// The one path of a model through a cell: build the backbone → load its starting weights → apply the
/// method → train → predict with the checkpoint ensemble. Every caller goes through it, so a cell is
/// built, trained and predicted one way: the sweep's cells (`CellExecution`), the pre-training stage
/// (`SweepRunner`, with full fine-tuning from a random start), `harness plan` (`SweepPlan`: the model
/// and the step count), `harness predict` (`PredictionModel`) and diagnosis (`CellSegmenter`).
/// Stages: `makeModel` (CellPipeline+Model), `train` (+Training), `predict` (+Prediction).
public struct CellPipeline {
    public let backbone: BackboneConfig
    /// The backbone's name in messages (a spec's label).
    public let backboneLabel: String
    public let method: any PEFTMethod
    /// Seeds the initialisation, the method's generator and every training draw.
    public let seed: UInt64
    /// Loaded before the method is applied (nil: the random initialisation).
    public let startingWeights: URL?
    public let training: TrainingSettings
    public let evaluation: EvaluationSettings
    /// The training crop and inference window size (NIfTI order): the backbone's rule, applied once.
    public let patchSize: [Int]

    public init(backbone: BackboneConfig, backboneLabel: String? = nil, method: any PEFTMethod, seed: UInt64,
                startingWeights: URL?, training: TrainingSettings, evaluation: EvaluationSettings = EvaluationSettings()) throws {
        self.backbone = backbone
        self.backboneLabel = backboneLabel ?? backbone.kind
        self.method = method
        self.seed = seed
        self.startingWeights = startingWeights
        self.training = training
        self.evaluation = evaluation
        patchSize = try backbone.inputSize(requested: training.patchSize)
    }

    /// A sweep cell's pipeline; `startingWeights` is what `SweepRunner.weights(for: cell.backbone)` gives.
    public init(_ cell: Cell, spec: ExperimentSpec, startingWeights: URL?) throws {
        try self.init(backbone: cell.backbone.config, backboneLabel: cell.backbone.label, method: cell.method.method,
                      seed: cell.seed, startingWeights: startingWeights, training: spec.training, evaluation: spec.evaluation)
    }

    public var classes: Int { backbone.outChannels }

    /// Training's validation and the test predictions tile with this window (engine order).
    var window: SlidingWindow { evaluation.window(roi: AxisOrder.tensorShape(fromNIfTI: patchSize)) }
}
