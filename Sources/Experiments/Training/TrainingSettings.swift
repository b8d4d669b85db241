import Backbones
import ConfigDecoding
import Tensors

/// The `training:` section of a spec. Sizes are in NIfTI axis order (i, j, k).
public struct TrainingSettings: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case adam, adamw, sgd }
    public enum ScheduleKind: String, Codable, Sendable { case poly, cosine, constant }
    public enum LossKind: String, Codable, Sendable {
        /// The papers' softmax_dice2: Dice of every class (background too) summed over the batch.
        case softmaxDice = "softmax_dice"
        /// MONAI DiceCELoss(to_onehot_y, softmax).
        case diceCE = "dice_ce"
        /// MONAI DiceLoss(to_onehot_y, softmax).
        case dice
        case ce
    }

    /// Passes over the training cases (the papers use 1000).
    public var epochs = 50
    /// Optimizer steps per epoch; nil = one pass over the training cases (`stepsPerEpoch(cases:)`).
    public var iterationsPerEpoch: Int?
    /// The authors' DataLoader (`shuffle=True, drop_last=True`): ⌊cases / batch⌋ steps per epoch, the
    /// incomplete last batch dropped. nil = false: ⌈cases / batch⌉. Optional so that specs without
    /// it keep their cell keys (the new protocol options below are too).
    public var dropLast: Bool?
    public var batchSize = 2
    /// Random crop size (i, j, k); nil = the backbone's input size (UNETR's img_size, else 64³).
    public var patchSize: [Int]?
    public var optimizer = OptimizerKind.adam
    public var learningRate = 1e-3
    public var weightDecay = 2e-5
    public var amsgrad = true
    public var momentum = 0.99
    public var schedule = ScheduleKind.poly
    public var polyPower = 0.9
    public var warmupEpochs = 0
    public var loss = LossKind.softmaxDice
    /// Global gradient-norm clip; nil = none.
    public var gradientClip: Double?
    /// Validate (sliding-window Dice on the validation cases) every this many epochs; 0 = never.
    public var validateEvery = 10
    /// Checkpoints of the last this many epochs are kept for the papers' softmax averaging.
    public var keepLast = 4
    /// Probability that a crop is centred on a foreground voxel.
    public var foregroundRatio = 0.5
    public var flips = true
    /// Intensity scale range and shift (× the image's standard deviation), the papers' 0.9–1.1 and ±0.1.
    public var intensityScale = [0.9, 1.1]
    public var intensityShift = 0.1
    /// Where crops are cut when not centred on foreground; nil = centred (MONAI's).
    public var crops: AugmentationOptions.CropPlacement?
    /// How the intensity scale and shift are drawn; nil = one per crop (MONAI's).
    public var intensityDraw: AugmentationOptions.IntensityDraw?
    /// Recompute each backbone block's forward in the backward pass instead of keeping its tensors
    /// (`Backbone.activationCheckpointing`): a paper-size step fits in far less memory for one more
    /// forward pass; gradients and results are bit-identical. nil = false (and keeps cell keys).
    public var activationCheckpointing: Bool?

    public init() {}

    /// These settings less those that change only time and memory, never a result (checkpointing's
    /// gradients are bit-identical): what cell and pre-training keys hash, so turning checkpointing on
    /// for a large model neither reruns finished cells nor pre-trains again.
    public var outcomeSettings: TrainingSettings {
        var settings = self
        settings.activationCheckpointing = nil
        return settings
    }

    /// Optimizer steps in one epoch over `cases` training cases: `iterations_per_epoch` when set, else
    /// one pass as a PyTorch DataLoader makes it, ⌈cases / batch⌉ or, with `drop_last`, ⌊cases / batch⌋
    /// (0 when the cases fill no batch; `BudgetCheck` refuses that before any work). The one place
    /// this count is made: training, pre-training and `plan`'s estimate all use it.
    public func stepsPerEpoch(cases: Int) -> Int {
        if let iterationsPerEpoch { return iterationsPerEpoch }
        return dropLast == true ? cases / batchSize : max(1, (cases + batchSize - 1) / batchSize)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, iterationsPerEpoch = "iterations_per_epoch", batchSize = "batch_size", patchSize = "patch_size"
        case optimizer, learningRate = "learning_rate", weightDecay = "weight_decay", amsgrad, momentum
        case schedule, polyPower = "poly_power", warmupEpochs = "warmup_epochs", loss, gradientClip = "gradient_clip"
        case validateEvery = "validate_every", keepLast = "keep_last", foregroundRatio = "foreground_ratio"
        case flips, intensityScale = "intensity_scale", intensityShift = "intensity_shift"
        case dropLast = "drop_last", crops, intensityDraw = "intensity_draw"
        case activationCheckpointing = "activation_checkpointing"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.epochs, \.epochs), (.iterationsPerEpoch, \.iterationsPerEpoch),
                              (.batchSize, \.batchSize), (.patchSize, \.patchSize), (.optimizer, \.optimizer),
                              (.learningRate, \.learningRate), (.weightDecay, \.weightDecay), (.amsgrad, \.amsgrad),
                              (.momentum, \.momentum), (.schedule, \.schedule), (.polyPower, \.polyPower),
                              (.warmupEpochs, \.warmupEpochs), (.loss, \.loss), (.gradientClip, \.gradientClip),
                              (.validateEvery, \.validateEvery), (.keepLast, \.keepLast),
                              (.foregroundRatio, \.foregroundRatio), (.flips, \.flips),
                              (.intensityScale, \.intensityScale), (.intensityShift, \.intensityShift),
                              (.dropLast, \.dropLast), (.crops, \.crops), (.intensityDraw, \.intensityDraw),
                              (.activationCheckpointing, \.activationCheckpointing))
        // Upper limits too: a shared spec must not ask for a 13 GB batch or overflow a step count.
        try read.require((1...1_000_000).contains(epochs), .epochs, "epochs must be 1 to 1000000")
        try read.require((1...10_000_000).contains(iterationsPerEpoch ?? 1), .iterationsPerEpoch, "iterations_per_epoch must be 1 to 10000000")
        try read.require((1...1024).contains(batchSize), .batchSize, "batch_size must be 1 to 1024")
        try read.require(patchSize.map { $0.count == 3 && $0.allSatisfy { (1...1024).contains($0) } } ?? true, .patchSize,
                         "patch_size needs 3 sizes of 1 to 1024")
        try read.require(batchSize * (patchSize ?? [1, 1, 1]).reduce(1, *) <= 1 << 28, .patchSize,
                         "batch_size × patch voxels must be at most 2^28 (1 GiB per batch tensor)")
        try read.require(learningRate > 0 && learningRate.isFinite, .learningRate, "learning_rate must be positive and finite")
        try read.require(validateEvery >= 0, .validateEvery, "validate_every must be 0 (never) or positive")
        try read.require(keepLast >= 1, .keepLast, "keep_last must be at least 1")
        try read.require((0...1).contains(foregroundRatio), .foregroundRatio, "foreground_ratio must be in [0, 1]")
        try read.require(intensityScale.count == 2 && intensityScale[0] <= intensityScale[1], .intensityScale, "intensity_scale is [low, high]")
    }

    /// Sets up `model` the way these settings train it (every place that trains or times a step calls this).
    public func prepare(_ model: any Backbone) {
        model.activationCheckpointing = activationCheckpointing ?? false
    }

    public func makeOptimizer(_ parameters: [(String, Parameter)]) -> any Optimizer {
        switch optimizer {
        case .adam:
            Adam(parameters, learningRate: Float(learningRate), weightDecay: Float(weightDecay), amsgrad: amsgrad)
        case .adamw:
            Adam(parameters, learningRate: Float(learningRate), weightDecay: Float(weightDecay), amsgrad: amsgrad,
                 decoupledWeightDecay: true)
        case .sgd:
            SGD(parameters, learningRate: Float(learningRate), momentum: Float(momentum), weightDecay: Float(weightDecay),
                nesterov: true)
        }
    }

    /// The learning rate for `epoch` (set once per epoch, as the papers do).
    public func learningRate(epoch: Int) -> Double {
        let kind: LearningRateSchedule = switch schedule {
        case .poly: .poly(power: polyPower)
        case .cosine: .cosine
        case .constant: .constant
        }
        return kind.rate(base: learningRate, step: epoch, total: epochs, warmup: warmupEpochs)
    }

    public func loss(logits: Tensor, labels: Tensor) -> Tensor {
        switch loss {
        case .softmaxDice: softmaxDiceLoss(logits: logits, labels: labels)
        case .diceCE: diceCrossEntropyLoss(logits: logits, labels: labels)
        case .dice: monaiDiceLoss(logits: logits, labels: labels)
        case .ce: crossEntropyLoss(logits: logits, labels: labels)
        }
    }
}
