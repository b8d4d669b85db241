import Backbones
import Foundation
import PEFTMethods
import Tensors

/// A trained model ready to segment new images (`harness predict`): the weights, the preprocessing
/// its inputs need, and the model built and predicting as a sweep cell's (`CellPipeline`: sliding
/// windows, checkpoint averaging, TTA, post-processing).
public struct PredictionModel {
    /// What the model is, for the log.
    public let description: String
    public let preprocessing: PreprocessingSpec
    let pipeline: CellPipeline
    let adaptation: Adaptation
    let checkpoints: [URL?]
    /// How a weights file loads (nil: as a cell's checkpoint).
    let load: ((URL) throws -> Void)?

    /// The model of a finished cell, `RESULTS/cells/<key>.json`: rebuilt as its evaluation built it,
    /// predicting with its saved checkpoints and its data set's preprocessing.
    public static func cell(record url: URL) throws -> PredictionModel {
        let file = url.path
        let store = ResultStore(root: url.deletingLastPathComponent().deletingLastPathComponent())
        let key = url.deletingPathExtension().lastPathComponent
        guard url.pathExtension == "json", url.deletingLastPathComponent().lastPathComponent == "cells" else {
            throw PredictionError.badInput("\(file): --cell takes a cell record, RESULTS/cells/<key>.json")
        }
        guard let record = try store.record(key) else { throw PredictionError.badInput("\(file): no such cell record") }
        guard record.status == .done else {
            throw PredictionError.badInput("\(file): the cell failed (\(record.failure ?? "no reason recorded")); it has no model")
        }
        guard let manifest = SweepManifest.load(from: store) else {
            throw PredictionError.badInput("\(SweepManifest.url(in: store).path): missing or unreadable; it names the spec the cell belongs to")
        }
        let specURL = URL(fileURLWithPath: manifest.specPath)
        let spec = try SpecLoader.load(specURL)
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        guard let cell = try runner.cells().first(where: { $0.key == key }) else {
            throw PredictionError.badInput("\(file): spec \(manifest.specPath) has no cell \(key) any more (was it edited?)")
        }
        let checkpoints = SweepCellLookup.savedCheckpoints(in: store.modelFolder(key), choice: spec.evaluation.checkpoint)
        guard !checkpoints.isEmpty else {
            throw PredictionError.badInput("\(store.modelFolder(key).path): no saved model for cell \(key)")
        }
        let pipeline = try CellPipeline(cell, spec: spec, startingWeights: try runner.weights(for: cell.backbone))
        return PredictionModel(
            description: "cell \(key) (\(cell.title)), \(checkpoints.count) checkpoint(s)", preprocessing: cell.dataset.preprocessing,
            pipeline: pipeline, adaptation: try pipeline.makeModel(), checkpoints: checkpoints, load: nil)
    }

    /// A backbone with weights given directly. Without a method each weights file is a whole model
    /// (safetensors or a PyTorch checkpoint), loaded strictly; with one, `pretrained` (if any) is loaded,
    /// the method applied (seeded by `seed`, as a cell's), and each weights file is a cell checkpoint
    /// (`models/<key>/epoch-N.safetensors`). Several weights files are averaged as the sweep averages.
    public static func weights(_ weights: [URL], backbone: BackboneConfig, method: (any PEFTMethod)?, pretrained: URL?, seed: UInt64,
                               preprocessing: PreprocessingSpec, evaluation: EvaluationSettings,
                               training: TrainingSettings = TrainingSettings()) throws -> PredictionModel {
        // Without a method the whole model is the weights: full fine-tuning's model, loaded strictly.
        let pipeline = try CellPipeline(backbone: backbone, method: method ?? FullFineTuning(), seed: seed,
                                        startingWeights: pretrained, training: training, evaluation: evaluation)
        let adaptation = try pipeline.makeModel()
        var load: ((URL) throws -> Void)?
        var notes: [String] = []
        if method == nil {
            let model = adaptation.model
            load = { try model.loadCheckpoint($0) }
            if let first = weights.first {
                // Load once here, so a checkpoint that does not fit fails before any image, and say what it lacked.
                let unused = try model.loadCheckpoint(first)
                if !unused.isEmpty {
                    notes.append("\(first.lastPathComponent) lacks \(unused.count) tensors the forward pass never uses (\(unused[0]), …); left at initialisation")
                }
            }
        }
        let names = weights.map(\.lastPathComponent).joined(separator: ", ")
        return PredictionModel(description: "\(backbone.kind)\(method.map { " + \($0.name)" } ?? "") with \(names)"
                                   + notes.map { "; " + $0 }.joined(),
                               preprocessing: preprocessing, pipeline: pipeline, adaptation: adaptation, checkpoints: weights,
                               load: load)
    }

    /// The post-processed label map of one prepared image, on its prepared grid.
    public func segment(_ prepared: PreparedCase) throws -> [Float] {
        try pipeline.predict(adaptation, cases: [prepared], checkpoints: checkpoints, load: load)[0]
    }
}

public enum PredictionError: Error, CustomStringConvertible {
    case badInput(String)
    /// Some images could not be segmented (each was reported); the others were written.
    case someFailed(Int, of: Int)

    public var description: String {
        switch self {
        case .badInput(let message): message
        case .someFailed(let failed, let total): "\(failed) of \(total) image(s) failed (see above); the others were written"
        }
    }
}
