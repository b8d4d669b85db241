import Diagnosis
import Foundation
import TestSupport
import XCTest
import Experiments
import Volumes

/// A finished sweep's models segment the cohort: the rebuilt model reproduces the cell's own test
/// predictions, and a diagnosis study reads the sweep's cells.
final class DiagnosisSegmentationTests: XCTestCase {
    static let tinySweep = TinySweep.yaml

    func testRebuiltModelsReproduceTheCellsPredictionsAndSegmentTheCohort() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diagnosis-segmentation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let specURL = folder.appendingPathComponent("sweep.yaml")
        try Self.tinySweep.write(to: specURL, atomically: true, encoding: .utf8)
        let results = folder.appendingPathComponent("sweep-results")

        let sweep = try SpecLoader.load(specURL)
        // Only `full` runs: `lora` stays missing.
        let runner = SweepRunner(spec: sweep, store: ResultStore(root: results), progress: ProgressPrinter(enabled: false))
        let records = try runner.run(filter: try CellFilter("method=full"))
        XCTAssertEqual(records.map(\.status), [.done])

        let source = SegmentationSourceSpec(spec: specURL.path, results: results.path)
        let cells = try SweepCellLookup.cells(source, sweep: sweep)
        XCTAssertEqual(cells.map(\.label), ["full", "lora"])
        guard case .ready(let checkpoints) = cells[0].status else { return XCTFail("\(cells[0].status)") }
        XCTAssertEqual(checkpoints.map(\.lastPathComponent), ["epoch-00000.safetensors", "epoch-00001.safetensors"])
        guard case .unavailable(let reason) = cells[1].status else { return XCTFail("lora has not run") }
        XCTAssertTrue(reason.contains("not run yet: run `harness run \(specURL.path) --results \(results.path)` first"), reason)

        // The cell's own test cases: the same Dice as its record.
        let segmenter = try SweepCellLookup.segmenter(for: cells[0], source: source, sweep: sweep)
        let dataset = try runner.dataset(sweep.datasets[0])
        let cases = try dataset.prepared(records[0].testCases)
        let labels = try segmenter.segment(cases)
        for (c, prediction) in zip(cases, labels) {
            let metrics = try evaluateSegmentation(prediction: prediction, reference: c.label, shape: c.gridSize, spacing: c.spacing)
            let recorded = try XCTUnwrap(records[0].cases.first { $0.id == c.id }?.metrics.all[.dice])
            XCTAssertEqual(try XCTUnwrap(metrics.all[.dice]), recorded, accuracy: 1e-9, c.id)
        }

        // A diagnosis study with these cells: `full` segments the cohort, `lora` is reported missing.
        let spec = try DiagnosisSpecLoader.parse("""
        name: with-segmentation
        cohort: {synthetic: {groups: {CN: 6, AD: 6}, seed: 4}}
        tasks: [AD vs CN]
        classifiers: [logistic]
        cross_validation: {folds: 3, repeats: 2}
        segmentation: {spec: \(specURL.path), results: \(results.path)}
        """, file: "diagnosis.yaml")
        let study = DiagnosisStudy(spec: spec, results: folder.appendingPathComponent("diagnosis"))
        let report = try study.run()
        print(report.terminalSummary())
        let full = try XCTUnwrap(report.sources.first { $0.source == "full" })
        XCTAssertTrue(full.available)
        XCTAssertEqual(full.subjects, 12)
        XCTAssertNotNil(full.agreement)
        XCTAssertNotNil(full.cohortDice)
        XCTAssertEqual(try XCTUnwrap(full.sweepTestDice), try XCTUnwrap(records[0].mean(.dice)), accuracy: 1e-12)
        XCTAssertEqual(report.sources.first { $0.source == "lora" }?.available, false)
        XCTAssertEqual(report.rows.filter { $0.kind == .segmentation }.map(\.source), ["full"])
        let volumes = try XCTUnwrap(study.volumes.first { $0.source == "full" })
        XCTAssertEqual(volumes.dice?.count, 12)
        // Cached: the volumes file exists and a rerun does not segment again.
        let cached = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("diagnosis/volumes").path)
        XCTAssertEqual(cached.filter { $0.hasSuffix(".json") }.count, 2, "reference and full")
        let rerun = try DiagnosisStudy(spec: spec, results: folder.appendingPathComponent("diagnosis")).run()
        XCTAssertEqual(rerun.rows.map(\.accuracy), report.rows.map(\.accuracy))

        // The same subjects as files (ADNIMERGE-style table, images, binary masks): the same volumes.
        var cohort = SyntheticCohort.adniLike
        (cohort.cn.count, cohort.emci.count, cohort.lmci.count, cohort.ad.count) = (6, 0, 0, 6)
        let subjects = cohort.generate(seed: 4)
        let phantoms = CohortPhantoms(style: .harp, cohortSeed: 4)
        let files = folder.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        var csv = "PTID,DX_bl,AGE,PTGENDER,PTEDUCAT,ICV\n"
        for (index, subject) in subjects.enumerated() {
            let phantom = try phantoms.render(subject, index: index)
            var mask = phantom.label
            mask.voxels = mask.voxels.map { $0 > 0 ? 1 : 0 }
            try NIfTI.write(phantom.image, to: files.appendingPathComponent("\(subject.id)_img.nii.gz"))
            try NIfTI.write(mask, to: files.appendingPathComponent("\(subject.id)_mask.nii.gz"), datatype: .uint8)
            csv += "\(subject.id),\(subject.diagnosis.rawValue),\(subject.age),\(subject.sex == .female ? "F" : "M"),"
                + "\(subject.educationYears),\(subject.intracranialVolume)\n"
        }
        try csv.write(to: files.appendingPathComponent("cohort.csv"), atomically: true, encoding: .utf8)
        let tableSpec = try DiagnosisSpecLoader.parse("""
        name: from-files
        cohort:
          metadata: \(files.path)/cohort.csv
          images: "\(files.path)/{id}_img.nii.gz"
          masks: "\(files.path)/{id}_mask.nii.gz"
        tasks: [AD vs CN]
        classifiers: [logistic]
        cross_validation: {folds: 3, repeats: 2}
        segmentation: {spec: \(specURL.path), results: \(results.path), methods: [full]}
        """, file: "diagnosis.yaml")
        let fromFiles = DiagnosisStudy(spec: tableSpec, results: folder.appendingPathComponent("from-files"))
        _ = try fromFiles.run()
        for kind in [VolumeSourceKind.reference, .segmentation] {
            let a = try XCTUnwrap(study.volumes.first { $0.kind == kind }), b = try XCTUnwrap(fromFiles.volumes.first { $0.kind == kind })
            XCTAssertEqual(b.ids, a.ids)
            for (x, y) in zip(a.volumes, b.volumes) {
                XCTAssertEqual(x.left, y.left, accuracy: 1e-3, "\(kind)")
                XCTAssertEqual(x.right, y.right, accuracy: 1e-3, "\(kind)")
            }
        }
    }
}
