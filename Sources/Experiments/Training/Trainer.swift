import Backbones
import Foundation
import Tensors

/// Where training batches come from (random crops with augmentation).
public protocol BatchSource {
    /// Restarts the random stream for an epoch, so a resumed run draws exactly what an uninterrupted
    /// one would have drawn.
    mutating func reseed(_ seed: UInt64)
    /// Images [B, C, k, j, i] and what the loss compares the output with: labels [B, k, j, i] (or, for
    /// inpainting, the unmasked images).
    mutating func nextBatch() -> (image: Tensor, label: Tensor)
}

/// A whole volume scored during training: image [1, C, k, j, i], integer labels [k, j, i].
public struct ValidationCase {
    public let id: String
    public let image: Tensor
    public let label: Tensor
    public init(id: String, image: Tensor, label: Tensor) { (self.id, self.image, self.label) = (id, image, label) }
}

public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var meanLoss: Double
    public var learningRate: Double
    public var validationDice: Double?
}

public struct TrainingProgress: Sendable {
    public let epoch: Int, epochs: Int
    public let step: Int, stepsPerEpoch: Int
    public let loss: Double
    public let lastValidationDice: Double?
    public let secondsPerStep: Double
    public var remainingSeconds: Double { Double((epochs - epoch - 1) * stepsPerEpoch + stepsPerEpoch - step - 1) * secondsPerStep }
}

public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, step: Int, value: Float)
    case stopped(afterEpoch: Int)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let step, let value):
            return "training diverged: loss \(value) at epoch \(epoch + 1), step \(step + 1); lower the learning rate or check the data"
        case .stopped(let epoch):
            return "training stopped after epoch \(epoch + 1); run again to resume from its checkpoint"
        }
    }
}

public struct TrainingOutcome: Sendable {
    public let history: [EpochRecord]
    /// Epochs whose checkpoints were kept for averaging, oldest first.
    public let keptEpochs: [Int]
    public let bestEpoch: Int?
    public let resumedFromEpoch: Int?
    /// Wall time of the training, over all the runs that trained it when it was resumed.
    public let seconds: Double
    /// Wall time of each epoch, the earlier runs' from the checkpoint this run resumed (a checkpoint
    /// written before checkpoints kept them has none: then only this run's); timings stay out of
    /// `history` so that records of the same spec are identical.
    public let epochSeconds: [Double]
    public let steps: Int
}

/// Trains the trainable parameters of a model with the spec's loss, optimizer and schedule; validates
/// every N epochs; keeps `last`, `best` and the last k epochs' checkpoints; resumes from `last`.
public final class Trainer {
    public let model: any Backbone
    public let settings: TrainingSettings
    public let parameters: [(String, Parameter)]
    public let optimizer: any Optimizer
    public let classes: Int
    public let window: SlidingWindow
    public let seed: UInt64
    /// Checkpoint folder (nil: keep nothing on disk, no resume).
    public let folder: URL?
    public var onProgress: ((TrainingProgress) -> Void)?
    /// The loss of the model's output on a batch against the batch's target: the spec's segmentation
    /// loss on the labels, unless a stage trains another task (masked-volume inpainting: L1 against the
    /// unmasked crop).
    public var lossFunction: (_ output: Tensor, _ target: Tensor) -> Tensor
    /// Asked after each epoch's checkpoint; true stops the run there (it resumes from that checkpoint).
    public var shouldStop: (_ finishedEpoch: Int) -> Bool = { _ in false }

    public init(model: any Backbone, parameters: [(String, Parameter)], settings: TrainingSettings, classes: Int,
                window: SlidingWindow, seed: UInt64, folder: URL?) {
        self.model = model
        self.parameters = parameters
        self.settings = settings
        self.classes = classes
        self.window = window
        self.seed = seed
        self.folder = folder
        optimizer = settings.makeOptimizer(parameters)
        lossFunction = { settings.loss(logits: $0, labels: $1) }
        settings.prepare(model)
    }

    public func run(batches: inout some BatchSource, validation: [ValidationCase], iterationsPerEpoch: Int) throws -> TrainingOutcome {
        let started = Date()
        var history: [EpochRecord] = []
        var best: (epoch: Int, dice: Double)?
        var startEpoch = 0
        var resumedFrom: Int?
        var earlierEpochSeconds: [Double] = []
        if let folder, let state = try TrainingCheckpoint.loadIfPresent(folder.appendingPathComponent("last.safetensors")) {
            try state.restore(into: model, optimizer: optimizer)
            history = state.history
            startEpoch = state.epoch + 1
            resumedFrom = state.epoch
            best = state.best
            earlierEpochSeconds = state.epochSeconds ?? []
        }
        var steps = 0
        var epochSeconds: [Double] = []
        var lastDice = history.last { $0.validationDice != nil }?.validationDice
        for epoch in startEpoch..<settings.epochs {
            let epochStart = Date()
            let rate = settings.learningRate(epoch: epoch)
            optimizer.learningRate = Float(rate)
            let epochSeed = seed &* 0x9E37_79B9 &+ UInt64(epoch)
            batches.reseed(epochSeed)
            reseedStochasticLayers(model, seed: epochSeed)
            model.train()
            var total = 0.0
            for step in 0..<iterationsPerEpoch {
                let stepStart = Date()
                let (image, label) = batches.nextBatch()
                optimizer.zeroGrad()
                let loss = lossFunction(model(image), label)
                let value = loss.scalar
                guard value.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, value: value) }
                loss.backward()
                if let clip = settings.gradientClip { clipGradientNorm(parameters, maxNorm: Float(clip)) }
                optimizer.step()
                total += Double(value)
                steps += 1
                onProgress?(TrainingProgress(epoch: epoch, epochs: settings.epochs, step: step, stepsPerEpoch: iterationsPerEpoch,
                                             loss: Double(value), lastValidationDice: lastDice,
                                             secondsPerStep: Date().timeIntervalSince(stepStart)))
            }
            var record = EpochRecord(epoch: epoch, meanLoss: total / Double(iterationsPerEpoch), learningRate: rate,
                                     validationDice: nil)
            let isLast = epoch == settings.epochs - 1
            if !validation.isEmpty, settings.validateEvery > 0, (epoch + 1) % settings.validateEvery == 0 || isLast {
                let dice = validationDice(validation)
                record.validationDice = dice
                lastDice = dice
                if best == nil || dice > best!.dice {
                    best = (epoch, dice)
                    if let folder { try TrainingCheckpoint.saveWeights(of: model, to: folder.appendingPathComponent("best.safetensors"), epoch: epoch) }
                }
            }
            epochSeconds.append(Date().timeIntervalSince(epochStart))
            history.append(record)
            if let folder {
                try saveCheckpoints(folder, epoch: epoch, history: history, best: best, epochSeconds: earlierEpochSeconds + epochSeconds)
            }
            if epoch < settings.epochs - 1 && shouldStop(epoch) { throw TrainingError.stopped(afterEpoch: epoch) }
        }
        return TrainingOutcome(history: history, keptEpochs: keptEpochs(), bestEpoch: best?.epoch, resumedFromEpoch: resumedFrom,
                               seconds: earlierEpochSeconds.reduce(0, +) + Date().timeIntervalSince(started),
                               epochSeconds: earlierEpochSeconds + epochSeconds, steps: steps)
    }

    /// Mean foreground Dice of the argmax predictions over the validation cases.
    public func validationDice(_ cases: [ValidationCase]) -> Double {
        model.eval()
        defer { model.train() }
        let scores = cases.map { c -> Double in
            let probabilities = withoutGrad { window.probabilities(for: c.image, classes: classes) { model($0) } }
            return meanForegroundDice(prediction: argmaxLabels(probabilities), reference: c.label, classes: classes)
        }
        return scores.reduce(0, +) / Double(max(scores.count, 1))
    }

    private func saveCheckpoints(_ folder: URL, epoch: Int, history: [EpochRecord], best: (epoch: Int, dice: Double)?,
                                 epochSeconds: [Double]) throws {
        try TrainingCheckpoint.saveWeights(of: model, to: folder.appendingPathComponent(String(format: "epoch-%05d.safetensors", epoch)),
                                           epoch: epoch)
        let epochs = keptEpochs()
        for old in existingEpochs(folder) where !epochs.contains(old) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(String(format: "epoch-%05d.safetensors", old)))
        }
        var checkpoint = TrainingCheckpoint(epoch: epoch, history: history, best: best)
        checkpoint.epochSeconds = epochSeconds
        try checkpoint.save(model: model, optimizer: optimizer, to: folder.appendingPathComponent("last.safetensors"))
    }

    private func keptEpochs() -> [Int] {
        guard let folder else { return [] }
        let all = existingEpochs(folder)
        return Array(all.suffix(settings.keepLast))
    }

    private func existingEpochs(_ folder: URL) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst(6).dropLast(12))
        }.sorted()
    }
}

/// Gives every dropout and drop-path layer its own stream derived from `seed` and its position.
public func reseedStochasticLayers(_ model: Module, seed: UInt64) {
    for (index, (_, module)) in model.namedModules().enumerated() {
        let layerSeed = seed ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93)
        if let dropout = module as? Dropout { dropout.reseed(layerSeed) }
        if let dropPath = module as? DropPath { dropPath.reseed(layerSeed) }
    }
}

/// The class with the highest probability at each voxel: [1, C, k, j, i] → [k, j, i].
public func argmaxLabels(_ probabilities: Tensor) -> Tensor {
    let classes = probabilities.shape[1], volume = probabilities.count / classes
    let labels = Tensor(zeros: Array(probabilities.shape[2...]))
    for v in 0..<volume {
        var bestClass = 0
        var bestValue = probabilities.pointer[v]
        for c in 1..<classes where probabilities.pointer[c * volume + v] > bestValue {
            bestValue = probabilities.pointer[c * volume + v]
            bestClass = c
        }
        labels.pointer[v] = Float(bestClass)
    }
    return labels
}

/// Dice averaged over the foreground classes (a class absent from both maps scores 1).
public func meanForegroundDice(prediction: Tensor, reference: Tensor, classes: Int) -> Double {
    precondition(prediction.count == reference.count, "prediction and reference sizes differ")
    var intersection = [Int](repeating: 0, count: classes), predicted = intersection, actual = intersection
    for v in 0..<prediction.count {
        let p = Int(prediction.pointer[v]), r = Int(reference.pointer[v])
        if p > 0 && p < classes { predicted[p] += 1 }
        if r > 0 && r < classes { actual[r] += 1 }
        if p == r && p > 0 && p < classes { intersection[p] += 1 }
    }
    let scores = (1..<max(classes, 2)).map { c -> Double in
        let total = predicted[c] + actual[c]
        if total == 0 { return 1 }
        return 2 * Double(intersection[c]) / Double(total)
    }
    return scores.reduce(0, +) / Double(scores.count)
}
