import Diagnosis
import Foundation
import Synchronization
import XCTest
import Experiments
import Volumes

/// Whole diagnosis studies on the synthetic cohort's images: reference volumes classify AD vs CN well
/// above chance; a degraded segmentation does not classify better; missing sweep cells are reported;
/// an ADNIMERGE-style table with masks gives the same volumes as the images they came from.
final class DiagnosisStudyTests: XCTestCase {
    func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnosis-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testADVersusCNFromReferenceMaskVolumesIsWellAboveChance() throws {
        let folder = try temporaryFolder("reference")
        let spec = try DiagnosisSpecLoader.parse("name: reference-only\n", file: "diagnosis.yaml")  // all defaults: 650 subjects
        let started = Date()
        let firstMessages = Mutex<[String]>([])
        let study = DiagnosisStudy(spec: spec, results: folder, log: { line in firstMessages.withLock { $0.append(line) } })
        let report = try study.run()
        XCTAssertTrue(firstMessages.withLock { $0 }.contains { $0.contains("measuring") }, "the first run measures")
        let seconds = Date().timeIntervalSince(started)
        print(report.terminalSummary())
        print(String(format: "rendered and measured 650 synthetic subjects, cross-validated: %.1f s", seconds))

        let task = try XCTUnwrap(report.tasks.first { $0.task == "AD vs CN" })
        XCTAssertEqual(task.negatives, 200)
        XCTAssertEqual(task.positives, 150)
        for classifier in ["logistic", "svm"] {
            let row = try XCTUnwrap(report.rows.first { $0.task == "AD vs CN" && $0.kind == .reference && $0.classifier == classifier })
            XCTAssertGreaterThan(row.accuracy.mean, task.majorityRate + 0.2, "majority rate \(task.majorityRate)")
            XCTAssertGreaterThan(row.balancedAccuracy.mean, 0.78)
            XCTAssertGreaterThan(row.auc.mean, 0.88)
            XCTAssertEqual(row.unconverged, 0)
            // The masks measure the cohort's volumes faithfully: same accuracy within a few subjects.
            let truth = try XCTUnwrap(report.rows.first { $0.task == "AD vs CN" && $0.kind == .cohort && $0.classifier == classifier })
            XCTAssertEqual(row.accuracy.mean, truth.accuracy.mean, accuracy: 0.02)
        }
        let emci = try XCTUnwrap(report.rows.first { $0.task == "LMCI vs EMCI" && $0.kind == .reference && $0.classifier == "logistic" })
        XCTAssertGreaterThan(emci.auc.mean, 0.6)
        let cohort = try XCTUnwrap(report.sources.first { $0.kind == .cohort })
        XCTAssertGreaterThan(try XCTUnwrap(cohort.correlationWithReference), 0.99)

        // Files, and the cache: a second run reads the volumes and gives the same report.
        for name in ["diagnosis.md", "diagnosis.csv", "diagnosis.json", "volumes.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let markdown = try String(contentsOf: folder.appendingPathComponent("diagnosis.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## AD vs CN (200 CN, 150 AD; majority rate 0.571)"), markdown)
        let csv = try String(contentsOf: folder.appendingPathComponent("diagnosis.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + report.rows.count)
        let decoded = try JSONDecoder().decode(DiagnosisReport.self, from: try Data(contentsOf: folder.appendingPathComponent("diagnosis.json")))
        XCTAssertEqual(decoded.rows.count, report.rows.count)
        // The second run measures nothing: every source comes from RESULTS/volumes (no clock involved).
        let messages = Mutex<[String]>([])
        let second = try DiagnosisStudy(spec: spec, results: folder, log: { line in messages.withLock { $0.append(line) } }).run()
        XCTAssertFalse(messages.withLock { $0 }.contains { $0.contains("measuring") || $0.contains("segmenting") },
                       "\(messages.withLock { $0 })")
        XCTAssertEqual(second.rows.map(\.accuracy), report.rows.map(\.accuracy))
    }

    /// Volumes from a deliberately degraded segmentation: each side of each reference mask independently
    /// eroded once, left alone or dilated once (6-neighbourhood), at random — volume errors of about
    /// −50 % / 0 / +75 % that have nothing to do with the diagnosis, larger than the 24 % AD–CN
    /// difference. Over three cohorts, AD vs CN accuracy and AUC drop well below the reference's (the
    /// drop is large, so the assertion holds for any seed, not by luck).
    func testDegradedSegmentationClassifiesWorse() throws {
        var cohort = SyntheticCohort.adniLike
        cohort.cn.count = 80
        cohort.emci.count = 0
        cohort.lmci.count = 0
        cohort.ad.count = 80
        for seed: UInt64 in [1, 2, 3] {
            let subjects = cohort.generate(seed: seed)
            let phantoms = CohortPhantoms(style: .harp, cohortSeed: seed)
            var reference: [HippocampalVolumes] = [], degraded: [HippocampalVolumes] = []
            var state = seed &* 0x9E37_79B9_7F4A_7C15
            func choice() -> Int {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % 3)
            }
            for (index, subject) in subjects.enumerated() {
                let phantom = try phantoms.render(subject, index: index)
                reference.append(try Volumetry.measure(phantom.label, split: .labels(left: 1, right: 2)))
                let grid = try phantom.label.grid3D()
                var worse = phantom.label
                worse.voxels = [Float](repeating: 0, count: worse.voxels.count)
                for side: Float in [1, 2] {
                    var mask = phantom.label.voxels.map { $0 == side }
                    switch choice() {
                    case 0: mask = MaskMorphology.erode(mask, grid: grid)
                    case 1: break
                    default: mask = MaskMorphology.dilate(mask, grid: grid)
                    }
                    for n in mask.indices where mask[n] { worse.voxels[n] = 1 }
                }
                degraded.append(try Volumetry.measure(worse, split: .worldMidline(.fieldOfViewCentre)))
            }
            let agreement = VolumeAgreement(reference: reference, predicted: degraded)
            func withVolumes(_ volumes: [HippocampalVolumes]) -> [Subject] {
                zip(subjects, volumes).map { s, v in
                    var copy = s
                    copy.leftHippocampus = v.left
                    copy.rightHippocampus = v.right
                    return copy
                }
            }
            let task = DiagnosisTask.adVersusCN
            let (x, y, _) = task.select(withVolumes(reference), features: DiagnosisFeature.volumesAndDemographics)
            let (xd, yd, _) = task.select(withVolumes(degraded), features: DiagnosisFeature.volumesAndDemographics)
            XCTAssertEqual(y, yd)
            let folds = try StratifiedKFold(folds: 5, repeats: 5, seed: 11).split(labels: y)
            let good = try crossValidate(features: x, labels: y, folds: folds, classifier: .logisticRegression(c: 1))
            let poor = try crossValidate(features: xd, labels: yd, folds: folds, classifier: .logisticRegression(c: 1))
            print(String(format: "cohort %d (80 CN, 80 AD): reference masks accuracy %.3f AUC %.3f; degraded masks (volume error %.0f %%, r %.2f) "
                         + "accuracy %.3f AUC %.3f", seed, good.accuracy.mean, good.auc.mean, agreement.meanAbsolutePercentError,
                         agreement.correlation, poor.accuracy.mean, poor.auc.mean))
            XCTAssertLessThanOrEqual(poor.accuracy.mean, good.accuracy.mean)
            XCTAssertLessThan(poor.accuracy.mean, good.accuracy.mean - 0.05)
            XCTAssertLessThan(poor.auc.mean, good.auc.mean - 0.05)
        }
    }

    func testMissingSweepCellsAreReportedAndTheReferenceStillRuns() throws {
        let folder = try temporaryFolder("missing")
        let quickstart = DiagnosisSpecTests.packageRoot.appendingPathComponent("experiments/quickstart.yaml").path
        let empty = folder.appendingPathComponent("no-sweep-here").path
        let spec = try DiagnosisSpecLoader.parse("""
        name: missing-cells
        cohort: {synthetic: {subjects: 40, seed: 5}}
        tasks: [AD vs CN]
        cross_validation: {folds: 3, repeats: 2}
        segmentation: {spec: \(quickstart), results: \(empty), budget: 12, methods: [full, lora]}
        """, file: "diagnosis.yaml")
        let report = try DiagnosisStudy(spec: spec, results: folder.appendingPathComponent("out")).run()
        let unavailable = report.sources.filter { !$0.available }
        XCTAssertEqual(unavailable.map(\.source), ["full", "lora"])
        for source in unavailable {
            XCTAssertEqual(source.message, "not run yet: run `harness run \(quickstart) --results \(empty)` first")
        }
        XCTAssertTrue(report.rows.contains { $0.kind == .reference })
        XCTAssertFalse(report.rows.contains { $0.kind == .segmentation })
        XCTAssertTrue(report.markdown().contains("## Not available"))
        XCTAssertTrue(report.terminalSummary().contains("not available: full: not run yet"))
    }

    /// An ADNIMERGE-style table with reference masks written as NIfTI (LAS, lpba40-style): the volumes
    /// measured from the files are those of the images they came from.
    func testMetadataCohortWithMasks() throws {
        let folder = try temporaryFolder("metadata")
        var cohort = SyntheticCohort.adniLike
        (cohort.cn.count, cohort.emci.count, cohort.lmci.count, cohort.ad.count) = (8, 0, 0, 8)
        let subjects = cohort.generate(seed: 9)
        let phantoms = CohortPhantoms(style: .lpba40, cohortSeed: 9)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("masks"), withIntermediateDirectories: true)
        var csv = "PTID,VISCODE,DX_bl,AGE,PTGENDER,PTEDUCAT,MMSE,ICV\n"
        var expected: [HippocampalVolumes] = []
        for (index, subject) in subjects.enumerated() {
            let phantom = try phantoms.render(subject, index: index)
            var binary = phantom.label
            binary.voxels = binary.voxels.map { $0 > 0 ? 1 : 0 }
            try NIfTI.write(binary, to: folder.appendingPathComponent("masks/\(subject.id)_mask.nii.gz"), datatype: .uint8)
            expected.append(try Volumetry.measure(phantom.label, split: .labels(left: 1, right: 2)))
            let diagnosis = subject.diagnosis == .AD ? "Dementia" : "CN"
            csv += "\(subject.id),bl,\(diagnosis),\(subject.age),\(subject.sex == .female ? "Female" : "Male"),"
                + "\(subject.educationYears),\(subject.mmse),\(subject.intracranialVolume)\n"
            csv += "\(subject.id),m12,\(diagnosis),\(subject.age + 1),x,x,x,x\n"  // another visit: left out
        }
        try csv.write(to: folder.appendingPathComponent("ADNIMERGE.csv"), atomically: true, encoding: .utf8)
        let spec = try DiagnosisSpecLoader.parse("""
        name: table
        cohort:
          metadata: \(folder.path)/ADNIMERGE.csv
          masks: "\(folder.path)/masks/{id}_mask.nii.gz"
        tasks: [AD vs CN]
        features: {volumes: [left_volume, right_volume, icv, age, sex, education], with_mmse: [left_volume, right_volume, mmse]}
        icv_normalisation: true
        cross_validation: {folds: 4, repeats: 2}
        """, file: "diagnosis.yaml")
        let study = DiagnosisStudy(spec: spec, results: folder.appendingPathComponent("out"))
        let report = try study.run()
        let reference = try XCTUnwrap(study.volumes.first { $0.kind == .reference })
        XCTAssertEqual(reference.ids, subjects.map(\.id))
        for (measured, truth) in zip(reference.volumes, expected) {
            XCTAssertEqual(measured.left, truth.left, accuracy: 1e-3)
            XCTAssertEqual(measured.right, truth.right, accuracy: 1e-3)
        }
        XCTAssertEqual(Set(report.rows.map(\.featureSet)), ["volumes", "with_mmse"])
        XCTAssertTrue(report.notes.contains { $0.contains("visits other than 'bl'") }, "\(report.notes)")
        XCTAssertEqual(report.tasks.first?.negatives, 8)
        XCTAssertEqual(report.tasks.first?.positives, 8)
        XCTAssertTrue(report.protocolText.contains("per mille of ICV"))
    }
}
