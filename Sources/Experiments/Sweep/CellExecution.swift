import Backbones
import Foundation
import PEFTMethods
import Tensors
import Volumes

/// Runs one sweep cell from start to record: its data, the model path (`CellPipeline`: starting
/// weights, method, training resumable from the cell's work folder, test predictions with the papers'
/// checkpoint averaging by default), then metrics and the kept model. Failures become failed records,
/// except a write the results folder refused (`resultsFolderFault`), which is thrown: it says nothing
/// about the cell.
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
            let pipeline = try CellPipeline(cell, spec: spec, startingWeights: startingWeights)
            let adaptation = try pipeline.makeModel()
            record.parameters = .init(try adaptation.parameterCounts())

            let outcome = try pipeline.train(adaptation, cases: try dataset.prepared(record.trainingCases),
                                             validation: try dataset.prepared(record.validationCases),
                                             folder: store.workFolder(cell.key), progress: progress)
            record.history = outcome.history
            trainingSeconds = outcome.seconds
            epochSeconds = outcome.epochSeconds

            let inferenceStart = Date()
            record.cases = try evaluate(pipeline, adaptation, testIDs: record.testCases, kept: outcome.keptEpochs)
            inferenceSeconds = Date().timeIntervalSince(inferenceStart)
            try keepModel(kept: outcome.keptEpochs)
        } catch {
            if let fault = resultsFolderFault(error) { throw fault }
            record.status = .failed
            record.failure = "\(error)"
        }
        record.timing = .init(startedAt: started, finishedAt: Date(), trainingSeconds: trainingSeconds,
                              inferenceSeconds: inferenceSeconds, peakResidentMB: peakResidentMegabytes(),
                              host: ProcessInfo.processInfo.hostName, epochSeconds: epochSeconds,
                              cpu: cpuModelName, blas: Kernels.blasDescription)
        return record
    }

    /// Predicts every test case with the chosen weights, post-processes and scores it.
    private func evaluate(_ pipeline: CellPipeline, _ adaptation: Adaptation, testIDs: [String], kept: [Int]) throws
        -> [CellRecord.CaseResult] {
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
        let predictions = try pipeline.predict(adaptation, cases: cases, checkpoints: checkpoints)
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
}
