import Foundation
import TestSupport
import XCTest
import Experiments
import Tensors
import Volumes

/// The real MSD Task04 Hippocampus folder (skipped with a message when absent).
final class DataMSDTests: XCTestCase {
    private func spec(_ root: String) -> DatasetSpec {
        DatasetSpec(name: "msd", layout: .msd, root: root, labelMap: .map([1: 1, 2: 1]),
                    split: SplitSpec(validation: .count(5), test: .count(20), seed: 0))
    }

    func testScanFinds200CasesAndNamesTheSkippedFiles() throws {
        let folder = try SharedData.msdHippocampus()
        let start = Date()
        let scan = try DatasetScanner.scan(spec(folder.path))
        print("scanned MSD in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(scan.cases.count, 200)
        XCTAssertFalse(scan.caseIDs.contains("hippocampus_118"))
        let stray = try XCTUnwrap(scan.skippedReason("imagesTr/hippocampus_118.nii.gz"))
        XCTAssertTrue(stray.contains("not listed in dataset.json") && stray.contains("no label"), stray)
        XCTAssertEqual(scan.skippedReason("imagesTr/.DS_Store"), "not a NIfTI file")
        XCTAssertEqual(scan.skipped.count, 2, "\(scan.skipped)")
    }

    /// Scan + read + prepare all 200 cases (timed), then the data check's view of the same folder.
    func testPrepareAllCasesAndCheck() throws {
        let folder = try SharedData.msdHippocampus()
        let (start, cpu) = (Date(), clock())
        let dataset = try Dataset(spec: spec(folder.path))
        let prepared = try dataset.preparedAll()
        let seconds = Date().timeIntervalSince(start)
        let cpuSeconds = Double(clock() - cpu) / Double(CLOCKS_PER_SEC)
        print("scan + prepare all \(prepared.count) MSD cases: \(String(format: "%.2f", seconds)) s wall, "
              + "\(String(format: "%.2f", cpuSeconds)) s CPU (\(Parallel.workersDescription))")
        XCTAssertEqual(prepared.count, 200)
        for c in prepared {
            XCTAssertEqual(c.image.count, c.gridSize.reduce(1, *))
            XCTAssertEqual(Set(c.label).subtracting([0, 1]), [], c.id)
            XCTAssertTrue(c.image.allSatisfy(\.isFinite), c.id)
            XCTAssertEqual(c.spacing.map { ($0 * 1000).rounded() / 1000 }, [1, 1, 1])
        }
        XCTAssertEqual(dataset.splits.test.count, 20)
        XCTAssertEqual(dataset.splits.validation.count, 5)
        XCTAssertEqual(dataset.splits.trainingPool.count, 175)
        // Served from the cache the second time: the very same voxel buffers, nothing prepared again.
        func buffers(_ cases: [PreparedCase]) -> [UnsafeRawPointer?] {
            cases.map { c in c.image.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        }
        XCTAssertEqual(buffers(try dataset.prepared(dataset.caseIDs)), buffers(prepared))

        let checkStart = Date()
        let report = try DataCheck.check(spec(folder.path))
        print("data check of MSD: \(String(format: "%.2f", Date().timeIntervalSince(checkStart))) s\n\(report.text)")
        XCTAssertEqual(report.usableCases, 200)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.labelValues.map(\.value), [0, 1, 2])
        XCTAssertEqual(report.classes?.map(\.value), [0, 1])
        XCTAssertEqual(report.imageDatatypes.keys.sorted(), ["float32", "uint8"])
        XCTAssertTrue(report.text.contains("hippocampus_118"))
        XCTAssertTrue(report.text.contains(".DS_Store"))
        XCTAssertEqual(report.split?.validation, 5)
        XCTAssertEqual(report.split?.test, 20)
        XCTAssertEqual(report.split?.trainingPool, 175)
    }

    /// A copy of part of the folder (symlinks to 20 listed cases, the stray image and the junk file)
    /// reports that copy's count, once `allow_outside_root` lets its links leave the copy's root (without
    /// it the first link is refused, naming where it leads).
    func testAnotherCopyReportsItsOwnCount() throws {
        let folder = try SharedData.msdHippocampus()
        let copy = try TemporaryFolder()
        let manager = FileManager.default
        for sub in ["imagesTr", "labelsTr"] {
            try manager.createDirectory(at: copy.file(sub), withIntermediateDirectories: true)
        }
        let original = try DatasetScanner.scan(spec(folder.path))
        let chosen = Array(original.caseIDs.prefix(20))
        var entries: [String] = []
        for id in chosen {
            for sub in ["imagesTr", "labelsTr"] {
                try manager.createSymbolicLink(atPath: copy.path + "/\(sub)/\(id).nii.gz",
                                               withDestinationPath: folder.path + "/\(sub)/\(id).nii.gz")
            }
            entries.append("{\"image\": \"./imagesTr/\(id).nii.gz\", \"label\": \"./labelsTr/\(id).nii.gz\"}")
        }
        try manager.createSymbolicLink(atPath: copy.path + "/imagesTr/hippocampus_118.nii.gz",
                                       withDestinationPath: folder.path + "/imagesTr/hippocampus_118.nii.gz")
        try manager.copyItem(atPath: folder.path + "/imagesTr/.DS_Store", toPath: copy.path + "/imagesTr/.DS_Store")
        try copy.writeText("{\"training\": [\(entries.joined(separator: ", "))]}", to: "dataset.json")

        var copySpec = DatasetSpec(name: "msd-copy", layout: .msd, root: copy.path, labelMap: .map([1: 1, 2: 1]),
                                   split: SplitSpec(validation: .count(2), test: .count(4)))
        XCTAssertThrowsError(try DatasetScanner.scan(copySpec)) { error in
            guard case DataError.linkOutsideRoot(_, let entry, _, let target) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(entry, "./imagesTr/\(chosen[0]).nii.gz")
            XCTAssertTrue(target.hasSuffix("/imagesTr/\(chosen[0]).nii.gz"), target)
        }
        copySpec.allowOutsideRoot = true
        let report = try DataCheck.check(copySpec)
        XCTAssertEqual(report.usableCases, 20)
        XCTAssertEqual(report.caseIDs, chosen)
        XCTAssertEqual(Set(report.skipped.map(\.path)), ["imagesTr/hippocampus_118.nii.gz", "imagesTr/.DS_Store"])
        XCTAssertEqual(report.problems, [])
    }

    /// A prediction written back lands on the original grid: the prepared label, written and read
    /// again, equals the merged original label voxel for voxel.
    func testPredictionWrittenBackMatchesTheOriginalLabel() throws {
        let folder = try SharedData.msdHippocampus()
        var custom = spec(folder.path)
        custom.preprocessing = PreprocessingSpec(spacing: [1.5, 1, 0.8], orientation: "LPI", cropTo: [30, 40, 30], padTo: [32, 48, 48])
        let dataset = try Dataset(spec: custom)
        let id = dataset.caseIDs[3]
        let prepared = try dataset.prepared(id)
        XCTAssertEqual(prepared.gridSize[0], 32)
        let out = try TemporaryFolder()
        let url = out.file("\(id)_pred.nii.gz")
        // Without resampling the round trip (reorientation, centred pad) is exact.
        var plain = spec(folder.path)
        plain.preprocessing = PreprocessingSpec(orientation: "LPI", padTo: [40, 56, 40])
        let exact = try Dataset(spec: plain).prepared(id)
        XCTAssertEqual(exact.gridSize, [40, 56, 40])
        try exact.writePrediction(exact.label, to: url)
        let written = try NIfTI.read(url)
        let (image, label) = try dataset.raw(id)
        XCTAssertEqual(written.shape, image.shape)
        XCTAssertTrue(written.affine.isClose(to: image.affine))
        XCTAssertEqual(written.source?.datatype, .uint8)
        let merged = label.voxels.map { $0 > 0 ? Float(1) : 0 }
        XCTAssertEqual(written.voxels, merged)
        // With resampling, nearest neighbour back-mapping stays close.
        let back = try prepared.toOriginalGrid(prepared.label)
        let agree = zip(back, merged).filter { $0 == $1 }.count
        XCTAssertGreaterThan(Double(agree) / Double(merged.count), 0.95)
    }
}

extension Parallel {
    static var workersDescription: String { "\(workers) worker thread(s)" }
}
