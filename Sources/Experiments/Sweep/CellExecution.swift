import Backbones
import Foundation
import PEFTMethods
import Tensors
import Volumes

/// Runs one cell from start to record: data, starting weights, method, training (resumable from the
/// cell's work folder), test inference (the papers' checkpoint averaging by default), post-processing
/// and metrics. Failures become failed records, except a write the results folder refused
/// (`resultsFolderFault`), which is thrown: it says nothing about the cell.
struct CellExecution {
    let spec: ExperimentSpec
    let cell: Cell
    let store: ResultStore
    let dataset: Dataset
    let startingWeights: URL?
    let progress: (TrainingProgress) -> Void

    func run() throws -> CellRecord {
        let started = Date()
        resetPeakMemory()
        var record = CellRecord(
            key: cell.key, spec: spec.name, backbone: cell.backbone.label, dataset: cell.dataset.name, budget: cell.budget.label,
            method: cell.method.label, methodName: cell.method.name, methodConfiguration: cell.method.configurationJSON,
            seed: cell.seed, version: resultsVersion, status: .done)
        var trainingSeconds = 0.0, inferenceSeconds = 0.0, epochSeconds: [Double] = []
        do {
            record.trainingCases = try dataset.training(cell.budget)
            record.validationCases = dataset.splits.validation
            record.testCases = dataset.splits.test
            let model = try makeBackbone(cell.backbone.config, seed: cell.seed)
            if let startingWeights { try Self.loadStartingWeights(startingWeights, into: model) }
            var rng = RandomGenerator(seed: cell.seed, stream: "method")
            let adaptation = try cell.method.method.apply(to: model, rng: &rng)
            record.parameters = .init(try adaptation.parameterCounts())

            let outcome = try train(model, adaptation: adaptation, trainingIDs: record.trainingCases,
                                    validationIDs: record.validationCases)
            record.history = outcome.history
            trainingSeconds = outcome.seconds
            epochSeconds = outcome.epochSeconds

            let inferenceStart = Date()
            record.cases = try evaluate(model, testIDs: record.testCases, kept: outcome.keptEpochs)
            inferenceSeconds = Date().timeIntervalSince(inferenceStart)
            try keepModel(kept: outcome.keptEpochs)
        } catch {
            if let fault = resultsFolderFault(error) { throw fault }
            record.status = .failed
            record.failure = "\(error)"
        }
        record.timing = .init(startedAt: started, finishedAt: Date(), trainingSeconds: trainingSeconds,
                              inferenceSeconds: inferenceSeconds, peakResidentMB: peakResidentMegabytes(),
                              host: ProcessInfo.processInfo.hostName, epochSeconds: epochSeconds)
        return record
    }

    /// The crop (and inference window) size in NIfTI order: the spec's, else what the backbone takes.
    static func patchSize(_ settings: TrainingSettings, _ backbone: BackboneConfig) throws -> [Int] {
        switch backbone {
        case .unetr(let args):
            let imgSize = args.imgSize
            if let patch = settings.patchSize, patch != imgSize {
                throw BackboneError.invalidConfiguration(
                    "UNETR only takes inputs of its img_size \(imgSize); set training.patch_size to \(imgSize) (or omit it)")
            }
            return imgSize
        case .swinunetr:
            let patch = settings.patchSize ?? [64, 64, 64]
            guard patch.allSatisfy({ $0 % 32 == 0 }) else {
                throw BackboneError.invalidConfiguration("SwinUNETR needs patch sizes divisible by 32; got \(patch)")
            }
            return patch
        }
    }

    private func train(_ model: any Backbone, adaptation: Adaptation, trainingIDs: [String], validationIDs: [String]) throws
        -> TrainingOutcome {
        let settings = spec.training
        let patch = try Self.patchSize(settings, cell.backbone.config)
        let window = spec.evaluation.window(roi: AxisOrder.tensorShape(fromNIfTI: patch))
        let classes = cell.backbone.config.outChannels
        let training = try dataset.prepared(trainingIDs), validationCases = try dataset.prepared(validationIDs)
        try LabelRange.require(training + validationCases, outChannels: classes, backbone: cell.backbone.label)
        let trainer = Trainer(model: model, parameters: adaptation.trainableParameters, settings: settings,
                              classes: classes, window: window, seed: cell.seed,
                              folder: store.workFolder(cell.key))
        trainer.onProgress = progress
        var batches = try EpochSampler(cases: training, options: settings.augmentation(patchSize: patch))
        let validation = validationCases.map {
            ValidationCase(id: $0.id, image: $0.imageTensor(), label: $0.labelTensor().reshaped($0.tensorShape))
        }
        return try trainer.run(batches: &batches, validation: settings.validateEvery > 0 ? validation : [],
                               iterationsPerEpoch: settings.stepsPerEpoch(cases: trainingIDs.count))
    }

    /// Predicts every test case with the chosen weights, post-processes and scores it.
    private func evaluate(_ model: any Backbone, testIDs: [String], kept: [Int]) throws -> [CellRecord.CaseResult] {
        let settings = spec.evaluation
        let cases = try dataset.prepared(testIDs)
        let folder = store.workFolder(cell.key)
        var checkpoints: [URL?]
        switch settings.checkpoint {
        case .last: checkpoints = [nil]
        case .best:
            let best = folder.appendingPathComponent("best.safetensors")
            checkpoints = [FileManager.default.fileExists(atPath: best.path) ? best : nil]
        case .ensemble:
            checkpoints = kept.map { folder.appendingPathComponent(String(format: "epoch-%05d.safetensors", $0)) }
            if checkpoints.isEmpty { checkpoints = [nil] }
        }
        let inference = try EnsembleInference(model: model, settings: settings, training: spec.training, backbone: cell.backbone.config)
        let predictions = try inference.labels(for: cases, checkpoints: checkpoints) { try TrainingCheckpoint.loadWeights($0, into: model) }
        var results: [CellRecord.CaseResult] = []
        for (c, labels) in zip(cases, predictions) {
            if settings.savePredictions {
                let url = store.root.appendingPathComponent("predictions/\(cell.key)/\(c.id).nii.gz")
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try c.writePrediction(labels, to: url)
            }
            let metrics = try evaluateSegmentation(prediction: labels, reference: c.label, shape: c.gridSize,
                                                   spacing: c.spacing, nsdTolerance: settings.nsdTolerance)
            results.append(.init(id: c.id, metrics: metrics))
        }
        return results
    }

    /// Links (or copies) the checkpoints the predictions used into `models/<key>/`, built beside it and
    /// renamed into place. The work folder stays whole until the record is saved (the runner deletes it
    /// then): a run killed before that resumes from the finished training and predicts with the same
    /// checkpoints, where moving them out one by one left a resumed run fewer to average.
    private func keepModel(kept: [Int]) throws {
        let work = store.workFolder(cell.key), model = store.modelFolder(cell.key)
        let staging = store.models.appendingPathComponent(".\(cell.key).partial")
        let names = spec.evaluation.checkpoint == .best ? ["best.safetensors"]
            : kept.map { String(format: "epoch-%05d.safetensors", $0) }
        let files = FileManager.default
        try? files.removeItem(at: staging)
        try files.createDirectory(at: staging, withIntermediateDirectories: true)
        for name in names where files.fileExists(atPath: work.appendingPathComponent(name).path) {
            let source = work.appendingPathComponent(name), target = staging.appendingPathComponent(name)
            do { try files.linkItem(at: source, to: target) } catch { try files.copyItem(at: source, to: target) }
        }
        try? files.removeItem(at: model)
        guard rename(staging.path, model.path) == 0 else {
            throw ResultStoreError.notWritable(model.path, String(cString: strerror(errno)))
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

    /// Loads the starting weights; an output block of another class count (a source task with other
    /// labels) is left at its initialisation, since the head trains anyway.
    static func loadStartingWeights(_ url: URL, into model: any Backbone) throws {
        let shapes = Dictionary(model.stateDict().map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        var tensors = try ModelWeightsFile.read(contentsOf: url)
        let outPrefix = model.outModuleName + "."
        let otherHead = tensors.filter { name, tensor in
            name.hasPrefix(outPrefix) && shapes[name].map { $0 != tensor.shape } == true
        }
        for name in otherHead.keys { tensors[name] = nil }
        let outKeys = otherHead.isEmpty ? [] : Set(shapes.keys.filter { $0.hasPrefix(outPrefix) })
        try model.load(checkpoint: tensors, file: url.lastPathComponent, alsoOptional: outKeys)
    }
}

/// Training batches for the trainer: a patch sampler restarted from a new seed at every epoch.
struct EpochSampler: BatchSource {
    let cases: [PreparedCase]
    let options: AugmentationOptions
    var sampler: PatchSampler

    init(cases: [PreparedCase], options: AugmentationOptions) throws {
        self.cases = cases
        self.options = options
        sampler = try PatchSampler(cases: cases, options: options, seed: 0)
    }

    mutating func reseed(_ seed: UInt64) {
        // Cannot fail: the cases were accepted at construction.
        sampler = try! PatchSampler(cases: cases, options: options, seed: seed)
    }

    mutating func nextBatch() -> (image: Tensor, label: Tensor) { sampler.nextBatch() }
}

extension TrainingSettings {
    func augmentation(patchSize: [Int]) -> AugmentationOptions {
        var options = AugmentationOptions(patchSize: patchSize, batchSize: batchSize, foregroundRatio: foregroundRatio)
        options.flipProbability = flips ? 0.5 : 0
        options.intensityScale = intensityScale
        options.intensityShift = intensityShift
        options.crops = crops ?? .centred
        options.intensityDraw = intensityDraw ?? .crop
        return options
    }
}
