import Diagnosis
import Foundation
import TestSupport
import Volumes
import XCTest
import Experiments

/// `harness predict`'s engine: a finished cell segments MSD images it never saw, each written on its own
/// grid, with a volumes table that `harness diagnose` reads.
final class PredictionTests: XCTestCase {
    /// DiagnosisSegmentationTests' tiny sweep with its data resampled to 1.2 mm: predictions must undo
    /// the resampling and the reorientation to land on each MSD image's grid.
    static let sweep = TinySweep.yaml
        .replacingOccurrences(of: "name: tiny-diagnosis", with: "name: tiny-predict")
        .replacingOccurrences(of: "    split: {validation: 1, test: 2, seed: 0}",
                              with: "    split: {validation: 1, test: 2, seed: 0}\n    preprocessing: {spacing: [1.2, 1.2, 1.2]}")

    func testFinishedCellSegmentsNewImagesOnTheirGridsAndDiagnosisReadsTheVolumes() throws {
        let msd = try SharedData.msdHippocampus()
        let folder = try TemporaryFolder(prefix: "predict")
        let specURL = folder.file("sweep.yaml")
        try Self.sweep.write(to: specURL, atomically: true, encoding: .utf8)
        let store = ResultStore(root: folder.file("results"))
        let spec = try SpecLoader.load(specURL)
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        let records = try runner.run(filter: try CellFilter("method=lora"))
        XCTAssertEqual(records.map(\.status), [.done])
        XCTAssertTrue(Self.sweep.contains("preprocessing: {spacing"))
        try SweepManifest(spec: spec, specPath: specURL.path, cells: try runner.cells()).save(to: store)

        // Eight MSD images and one file that is not an image.
        let images = folder.file("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: msd.appendingPathComponent("imagesTr").path)
            .filter { $0.hasSuffix(".nii.gz") && !$0.hasPrefix(".") }.sorted().prefix(8)
        for name in names {
            try FileManager.default.copyItem(at: msd.appendingPathComponent("imagesTr/\(name)"), to: images.appendingPathComponent(name))
        }
        try Data("not an image".utf8).write(to: images.appendingPathComponent("broken.nii.gz"))

        let model = try PredictionModel.cell(record: store.recordURL(records[0].key))
        var log: [String] = []
        let output = folder.file("predicted")
        let prediction = ImagePrediction(model: model, output: output, log: { log.append($0) })
        XCTAssertThrowsError(try prediction.run(images: try ImagePrediction.images([images.path]))) { error in
            guard case PredictionError.someFailed(1, of: 9) = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(log.contains { $0.contains("error: \(images.path)/broken.nii.gz") }, log.joined(separator: "\n"))
        XCTAssertTrue(log.contains { $0.contains("left") }, "an ETA")

        // One label map per image, on the image's grid, and a volumes row that matches it.
        let table = try String(contentsOf: output.appendingPathComponent("volumes.csv"), encoding: .utf8)
        let lines = table.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines[0], ["id", "image", "label_1_mm3", "left_volume", "right_volume", "foreground_mm3"])
        XCTAssertEqual(lines.count, 1 + names.count)
        var anyForeground = false
        for (name, row) in zip(names, lines.dropFirst()) {
            let id = String(name.dropLast(7))
            XCTAssertEqual(row[0], id)
            let image = try NIfTI.read(path: images.appendingPathComponent(name).path)
            let labels = try NIfTI.read(path: output.appendingPathComponent("\(id).nii.gz").path)
            XCTAssertEqual(labels.spatialShape, image.spatialShape, id)
            XCTAssertEqual(labels.affine, image.affine, id)
            XCTAssertTrue(labels.voxels.allSatisfy { $0 == 0 || $0 == 1 }, id)
            let volume = Double(labels.voxels.filter { $0 == 1 }.count) * labels.voxelVolumeMM3
            XCTAssertEqual(try XCTUnwrap(Double(row[2])), volume, accuracy: 0.01, id)
            XCTAssertEqual(try XCTUnwrap(Double(row[3])) + (try XCTUnwrap(Double(row[4]))), volume, accuracy: 0.02, id)
            anyForeground = anyForeground || volume > 0
        }
        XCTAssertTrue(anyForeground, "the model segments something")

        // `harness diagnose` with those volumes: a metadata table of the same subjects.
        var metadata = ["PTID,DX_bl,AGE,PTGENDER,PTEDUCAT,ICV"]
        for (n, name) in names.enumerated() {
            metadata.append("\(name.dropLast(7)),\(n % 2 == 0 ? "CN" : "AD"),\(70 + n),\(n % 3 == 0 ? "Female" : "Male"),\(12 + n % 5),\(1_400_000 + 10_000 * n)")
        }
        try (metadata.joined(separator: "\n") + "\n").write(to: folder.file("meta.csv"), atomically: true, encoding: .utf8)
        let diagnosis = try DiagnosisSpecLoader.parse("""
        name: predicted-volumes
        cohort: {metadata: \(folder.file("meta.csv").path), volumes: \(output.appendingPathComponent("volumes.csv").path)}
        tasks: [AD vs CN]
        classifiers: [logistic]
        cross_validation: {folds: 2, repeats: 1}
        """, file: "diagnosis.yaml")
        let report = try DiagnosisStudy(spec: diagnosis, results: folder.file("diagnosis")).run()
        let reference = try XCTUnwrap(report.sources.first)
        XCTAssertEqual(reference.subjects, names.count)
        let left = lines.dropFirst().compactMap { Double($0[3]) }
        XCTAssertEqual(try XCTUnwrap(reference.meanLeft), left.reduce(0, +) / Double(left.count), accuracy: 1e-6)
        XCTAssertFalse(report.rows.isEmpty)

        // A subject without a row is named.
        try (metadata.joined(separator: "\n") + "\nghost_999,AD,80,Male,12,1500000\n").write(to: folder.file("meta.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DiagnosisStudy(spec: diagnosis, results: folder.file("diagnosis-2")).run()) { error in
            XCTAssertTrue("\(error)".contains("ghost_999"), "\(error)")
        }
    }
}
