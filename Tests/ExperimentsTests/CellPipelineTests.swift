import Backbones
import Diagnosis
import Foundation
import PEFTMethods
import TestSupport
import Volumes
import XCTest
@testable import Experiments

/// The one cell pipeline: the sweep's test evaluation, `harness predict` and diagnosis predict the same
/// labels for the same cell, `plan` counts the steps training takes, and each backbone's input-size rule
/// is applied by the pipeline.
final class CellPipelineTests: XCTestCase {
    /// The diagnosis tests' tiny sweep, LoRA only (its initialisation uses the method's stream), with
    /// the test predictions saved.
    static let sweep = TinySweep.yaml
        .replacingOccurrences(of: "name: tiny-diagnosis", with: "name: tiny-pipeline")
        .replacingOccurrences(of: "methods: [full, lora]", with: "methods: [lora]")
        .replacingOccurrences(of: "evaluation: {checkpoint: ensemble, min_component: 20}",
                              with: "evaluation: {checkpoint: ensemble, min_component: 20, save_predictions: true}")

    func testTheSweepPredictAndDiagnosisGiveIdenticalLabelsForTheSameCell() throws {
        let folder = try TemporaryFolder(prefix: "cell-pipeline")
        let specURL = folder.file("sweep.yaml")
        try Self.sweep.write(to: specURL, atomically: true, encoding: .utf8)
        let spec = try SpecLoader.load(specURL)
        let store = ResultStore(root: folder.file("results"))
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        let records = try runner.run()
        XCTAssertEqual(records.map(\.status), [.done], records.first?.failure ?? "")
        let record = records[0]
        try SweepManifest(spec: spec, specPath: specURL.path, cells: try runner.cells()).save(to: store)

        let cases = try runner.dataset(spec.datasets[0]).prepared(record.testCases)
        XCTAssertEqual(cases.count, 2)
        let predict = try PredictionModel.cell(record: store.recordURL(record.key))
        let source = SegmentationSourceSpec(spec: specURL.path, results: store.root.path)
        let diagnosis = try SweepCellLookup.segmenter(for: try SweepCellLookup.cells(source, sweep: spec)[0],
                                                      source: source, sweep: spec).segment(cases)
        var foreground = 0
        for (n, c) in cases.enumerated() {
            let labels = try predict.segment(c)
            XCTAssertEqual(labels, diagnosis[n], "diagnosis and predict differ on \(c.id)")
            // The sweep's own labels, as it saved them on the case's original grid.
            let saved = try NIfTI.read(path: store.root.appendingPathComponent("predictions/\(record.key)/\(c.id).nii.gz").path)
            XCTAssertEqual(saved.voxels, try c.toOriginalGrid(labels), "the sweep and predict differ on \(c.id)")
            // And every metric of the record, exactly.
            let metrics = try evaluateSegmentation(prediction: labels, reference: c.label, shape: c.gridSize, spacing: c.spacing,
                                                   nsdTolerance: spec.evaluation.nsdTolerance)
            XCTAssertEqual(metrics, try XCTUnwrap(record.cases.first { $0.id == c.id }).metrics, c.id)
            foreground += labels.filter { $0 > 0 }.count
        }
        XCTAssertGreaterThan(foreground, 0, "a model that segments nothing would agree with anything")
    }

    func testPlanCountsTheStepsTheTrainerTakes() throws {
        // 3 training cases at batch 2: ⌈3/2⌉ = 2 steps per epoch (the short batch is a step), 2 epochs.
        let text = TinySweep.yaml
            .replacingOccurrences(of: "subjects: 5", with: "subjects: 6")
            .replacingOccurrences(of: "budgets: [2]", with: "budgets: [3]")
            .replacingOccurrences(of: "methods: [full, lora]", with: "methods: [linear_probe]")
        let folder = try TemporaryFolder(prefix: "cell-pipeline-steps")
        let spec = try SpecLoader.parse(text, file: "steps.yaml")
        let store = ResultStore(root: folder.file("results"))
        let plan = try SweepPlan.make(spec: spec, store: store, measure: false, log: { _ in })
        XCTAssertEqual(plan.cells.map(\.trainingSteps), [4])

        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        let cell = try runner.cells()[0]
        let dataset = try runner.dataset(cell.dataset)
        let pipeline = try CellPipeline(cell, spec: spec, startingWeights: nil)
        let outcome = try pipeline.train(try pipeline.makeModel(), cases: try dataset.prepared(try dataset.training(cell.budget)),
                                         validation: [], folder: nil)
        XCTAssertEqual(outcome.steps, 4)
        XCTAssertEqual(outcome.history.count, 2)
    }

    func testEachBackbonesInputSizeRuleIsAppliedOnce() throws {
        let unetr = try JSONDecoder().decode(BackboneConfig.self, from: Data("""
            {"name": "unetr", "args": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 32]}}
            """.utf8))
        let swin = try JSONDecoder().decode(BackboneConfig.self, from: Data("""
            {"name": "swinunetr", "args": {"in_channels": 1, "out_channels": 2, "feature_size": 12}}
            """.utf8))
        func pipeline(_ backbone: BackboneConfig, patch: [Int]?) throws -> CellPipeline {
            var training = TrainingSettings()
            training.patchSize = patch
            return try CellPipeline(backbone: backbone, method: FullFineTuning(), seed: 0, startingWeights: nil, training: training)
        }
        XCTAssertEqual(try pipeline(unetr, patch: nil).patchSize, [32, 32, 32])
        XCTAssertEqual(try pipeline(unetr, patch: [32, 32, 32]).patchSize, [32, 32, 32])
        XCTAssertThrowsError(try pipeline(unetr, patch: [64, 64, 64])) { error in
            XCTAssertTrue("\(error)".contains("UNETR only takes inputs of its img_size [32, 32, 32]"), "\(error)")
        }
        XCTAssertEqual(try pipeline(swin, patch: nil).patchSize, [64, 64, 64])
        XCTAssertEqual(try pipeline(swin, patch: [96, 64, 32]).patchSize, [96, 64, 32])
        XCTAssertThrowsError(try pipeline(swin, patch: [48, 64, 64])) { error in
            XCTAssertTrue("\(error)".contains("SwinUNETR needs patch sizes divisible by 32; got [48, 64, 64]"), "\(error)")
        }
    }
}
