import Foundation
import TestSupport
import XCTest
import Experiments
import Volumes

/// Each layout on small generated files, with the edge cases users bring.
final class DataLayoutTests: XCTestCase {
    // MARK: msd

    /// An MSD folder with a listed pair, an unlisted image without label, junk, a missing label.
    private func makeMSD(_ folder: TemporaryFolder, extraEntries: String = "") throws {
        for id in ["case_001", "case_002", "case_003", "case_004"] {
            try TinyCase.write(in: folder, image: "imagesTr/\(id).nii.gz", label: "labelsTr/\(id).nii.gz")
        }
        try TinyCase.write(in: folder, image: "imagesTr/case_009.nii.gz", label: nil)           // unlisted, no label
        try TinyCase.write(in: folder, image: "imagesTr/case_005.nii.gz", label: nil)           // listed, label missing
        try folder.writeText("junk", to: "imagesTr/.DS_Store")
        try folder.writeText("notes", to: "labelsTr/README.txt")
        let listed = ["case_001", "case_002", "case_003", "case_004", "case_005"].map {
            "{\"image\": \"./imagesTr/\($0).nii.gz\", \"label\": \"./labelsTr/\($0).nii.gz\"}"
        }
        try folder.writeText(
            "{\"name\": \"tiny\", \"training\": [\(listed.joined(separator: ", "))\(extraEntries)], \"test\": []}",
            to: "dataset.json")
    }

    func testMSDScanReportsSkippedFilesWithReasons() throws {
        let folder = try TemporaryFolder()
        try makeMSD(folder)
        let spec = DatasetSpec(name: "tiny", layout: .msd, root: folder.path, exclude: ["case_004"])
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(scan.caseIDs, ["case_001", "case_002", "case_003"])
        XCTAssertEqual(scan.excluded, ["case_004"])
        XCTAssertEqual(scan.skippedReason("imagesTr/.DS_Store"), "not a NIfTI file")
        XCTAssertEqual(scan.skippedReason("labelsTr/README.txt"), "not a NIfTI file")
        let unlisted = try XCTUnwrap(scan.skippedReason("imagesTr/case_009.nii.gz"))
        XCTAssertTrue(unlisted.contains("not listed in dataset.json") && unlisted.contains("no label"), unlisted)
        let missing = try XCTUnwrap(scan.skippedReason("imagesTr/case_005.nii.gz"))
        XCTAssertTrue(missing.contains("no label") && missing.contains("labelsTr/case_005.nii.gz"), missing)
        XCTAssertEqual(scan.skipped.count, 4, "\(scan.skipped)")
    }

    func testMSDEntryOutsideRootIsRefusedUnlessAllowed() throws {
        let outside = try TemporaryFolder()
        try TinyCase.write(in: outside, image: "elsewhere.nii.gz", label: "elsewhere_label.nii.gz")
        let folder = try TemporaryFolder()
        let escape = "../" + outside.url.lastPathComponent + "/elsewhere.nii.gz"
        try makeMSD(folder, extraEntries: ", {\"image\": \"\(escape)\", \"label\": \"./labelsTr/case_001.nii.gz\"}")
        let spec = DatasetSpec(name: "tiny", layout: .msd, root: folder.path)
        assertDataError(try DatasetScanner.scan(spec), mentions: [escape, "outside the data root", "allow_outside_root"]) {
            if case .outsideRoot = $0 { return true } else { return false }
        }
        var allowed = spec
        allowed.allowOutsideRoot = true
        let scan = try DatasetScanner.scan(allowed)
        XCTAssertTrue(scan.caseIDs.contains("elsewhere"))

        // Absolute paths are refused too.
        let absolute = try TemporaryFolder()
        try makeMSD(absolute, extraEntries: ", {\"image\": \"\(outside.path)/elsewhere.nii.gz\", \"label\": \"\(outside.path)/elsewhere_label.nii.gz\"}")
        assertDataError(try DatasetScanner.scan(DatasetSpec(name: "abs", layout: .msd, root: absolute.path)),
                        mentions: ["outside the data root"])
    }

    func testMissingRootAndMissingIndexAreClear() throws {
        assertDataError(try DatasetScanner.scan(DatasetSpec(name: "gone", layout: .msd, root: "/nonexistent/msd")),
                        mentions: ["/nonexistent/msd", "does not exist"]) {
            if case .missingRoot = $0 { return true } else { return false }
        }
        let folder = try TemporaryFolder()
        assertDataError(try DatasetScanner.scan(DatasetSpec(name: "empty", layout: .msd, root: folder.path)),
                        mentions: ["dataset.json"])
        try folder.writeText("{ not json", to: "dataset.json")
        assertDataError(try DatasetScanner.scan(DatasetSpec(name: "bad", layout: .msd, root: folder.path)),
                        mentions: ["dataset.json", "cannot read"])
    }

    func testMismatchedPairIsAnErrorNamingBothFiles() throws {
        let folder = try TemporaryFolder()
        try TinyCase.write(in: folder, image: "imagesTr/a.nii.gz", label: "labelsTr/a.nii.gz")
        try TinyCase.write(in: folder, image: "imagesTr/b.nii.gz", label: "labelsTr/b.nii.gz", labelShape: [6, 5, 3])
        try TinyCase.write(in: folder, image: "imagesTr/c.nii.gz", label: "labelsTr/c.nii.gz", labelSpacing: [1, 1, 2])
        let spec = DatasetSpec(name: "pairs", layout: .pairs, root: folder.path, images: "imagesTr/*.nii.gz",
                               labels: "labelsTr/*.nii.gz", split: SplitSpec(validation: .count(0), test: .count(0)))
        let dataset = try Dataset(spec: spec)
        XCTAssertEqual(dataset.caseIDs, ["a", "b", "c"])
        XCTAssertNoThrow(try dataset.prepared("a"))
        for id in ["b", "c"] {
            assertDataError(try dataset.prepared(id),
                            mentions: ["case '\(id)'", "imagesTr/\(id).nii.gz", "labelsTr/\(id).nii.gz"]) {
                if case .caseFailed = $0 { return true } else { return false }
            }
        }
        // The check lists them as problems instead of stopping.
        let report = try DataCheck.check(spec)
        XCTAssertEqual(report.problems.map(\.id), ["b", "c"])
        XCTAssertTrue(report.problems[0].message.contains("labelsTr/b.nii.gz"))
    }

    // MARK: pairs

    func testPairsMatchByWildcardStemAndReportUnpaired() throws {
        let folder = try TemporaryFolder()
        for id in ["sub1", "sub2", "sub3"] {
            try TinyCase.write(in: folder, image: "img/\(id)_t1.nii.gz", label: "seg/\(id)_mask.nii.gz")
        }
        try TinyCase.write(in: folder, image: "img/sub4_t1.nii.gz", label: nil)        // image without label
        try TinyCase.write(in: folder, image: "seg/sub5_mask.nii.gz", label: nil)      // label without image
        try TinyCase.write(in: folder, image: "img/sub6_flair.nii.gz", label: nil)     // another modality
        try folder.writeText("junk", to: "img/.DS_Store")
        let spec = DatasetSpec(name: "p", layout: .pairs, root: folder.path, images: "img/*_t1.nii.gz",
                               labels: "seg/*_mask.nii.gz", exclude: ["sub2"])
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(scan.caseIDs, ["sub1", "sub3"])
        XCTAssertEqual(scan.excluded, ["sub2"])
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("img/sub4_t1.nii.gz")).hasPrefix("no label"))
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("seg/sub5_mask.nii.gz")).hasPrefix("label without an image"))
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("img/sub6_flair.nii.gz")).hasPrefix("matches neither"))
        XCTAssertEqual(scan.skippedReason("img/.DS_Store"), "not a NIfTI file")
    }

    func testPairsPatternOutsideRootIsRefused() throws {
        let folder = try TemporaryFolder()
        let spec = DatasetSpec(name: "p", layout: .pairs, root: folder.path, images: "../*/img/*.nii.gz", labels: "seg/*.nii.gz")
        assertDataError(try DatasetScanner.scan(spec), mentions: ["../*/img/*.nii.gz", "outside the data root"])

        // Allowed, relative and absolute patterns reach the other folder.
        let other = try TemporaryFolder()
        try TinyCase.write(in: other, image: "img/x.nii.gz", label: "seg/x.nii.gz")
        let relative = DatasetSpec(name: "p", layout: .pairs, root: folder.path,
                                   images: "../\(other.url.lastPathComponent)/img/*.nii.gz",
                                   labels: "../\(other.url.lastPathComponent)/seg/*.nii.gz", allowOutsideRoot: true)
        XCTAssertEqual(try DatasetScanner.scan(relative).caseIDs, ["x"])
        let absolute = DatasetSpec(name: "p", layout: .pairs, root: folder.path, images: other.path + "/img/*.nii.gz",
                                   labels: other.path + "/seg/*.nii.gz", allowOutsideRoot: true)
        let scan = try DatasetScanner.scan(absolute)
        XCTAssertEqual(scan.caseIDs, ["x"])
        guard case .files(let image, _) = scan.cases[0].source else { return XCTFail("files expected") }
        XCTAssertEqual(image, other.path + "/img/x.nii.gz")
    }

    func testExcludeOfAnUnknownIDIsAWarning() throws {
        let folder = try TemporaryFolder()
        try TinyCase.write(in: folder, image: "img/a.nii.gz", label: "seg/a.nii.gz")
        let spec = DatasetSpec(name: "p", layout: .pairs, root: folder.path, images: "img/*.nii.gz", labels: "seg/*.nii.gz",
                               exclude: ["zz"])
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(scan.caseIDs, ["a"])
        XCTAssertEqual(scan.excluded, [])
        XCTAssertTrue(scan.warnings.contains { $0.contains("'zz'") }, "\(scan.warnings)")
    }

    // MARK: list

    /// The papers' EADC-HarP layout: ROOT/subN/subN_img.nii.gz + subN_mask.nii.gz and list files.
    func testListLayoutWithTrainValidationTestFiles() throws {
        let folder = try TemporaryFolder()
        for n in 1...12 where n != 7 {
            try TinyCase.write(in: folder, image: "sub\(n)/sub\(n)_img.nii.gz", label: "sub\(n)/sub\(n)_mask.nii.gz")
        }
        try TinyCase.write(in: folder, image: "sub7/sub7_img.nii.gz", label: nil)   // label missing
        try folder.writeText("junk", to: "sub3/.DS_Store")
        try folder.writeText("sub1\nsub2\nsub3\nsub4\nsub5\n# a comment\nsub6\nsub7\n\n", to: "train.txt")
        try folder.writeText("sub8\nsub9/\n", to: "valid.txt")
        try folder.writeText("sub10\nsub11\nsub12\n", to: "test.txt")
        let spec = DatasetSpec(
            name: "eadc", layout: .list, root: folder.path,
            lists: .init(train: "train.txt", validation: "valid.txt", test: "test.txt"), exclude: ["sub12"],
            labelMap: .map([1: 1, 2: 1]))
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(Set(scan.caseIDs), Set((1...11).filter { $0 != 7 }.map { "sub\($0)" }))
        XCTAssertEqual(scan.excluded, ["sub12"])
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("sub7/sub7_img.nii.gz")).contains("no label"))
        XCTAssertEqual(scan.skippedReason("sub3/.DS_Store"), "not a NIfTI file")

        let dataset = try Dataset(spec: spec, scan: scan)
        XCTAssertEqual(dataset.splits.validation, ["sub8", "sub9"])
        XCTAssertEqual(dataset.splits.test, ["sub10", "sub11"])
        XCTAssertEqual(Set(dataset.splits.trainingPool), ["sub1", "sub2", "sub3", "sub4", "sub5", "sub6"])
        let prepared = try dataset.prepared("sub1")
        XCTAssertEqual(Set(prepared.label), [0, 1], "anterior + posterior merged")
    }

    func testListLineOutsideRootIsRefusedAndDuplicatesAreErrors() throws {
        let folder = try TemporaryFolder()
        try TinyCase.write(in: folder, image: "sub1/sub1_img.nii.gz", label: "sub1/sub1_mask.nii.gz")
        try folder.writeText("sub1\n../other/sub2\n", to: "train.txt")
        let spec = DatasetSpec(name: "eadc", layout: .list, root: folder.path, lists: .init(train: "train.txt"))
        assertDataError(try DatasetScanner.scan(spec), mentions: ["../other/sub2", "train.txt line 2", "outside the data root"])
        try folder.writeText("/etc/sub2\n", to: "train.txt")
        assertDataError(try DatasetScanner.scan(spec), mentions: ["/etc/sub2", "outside the data root"])
        try folder.writeText("sub1\n", to: "train.txt")
        try folder.writeText("sub1\n", to: "test.txt")
        let twice = DatasetSpec(name: "eadc", layout: .list, root: folder.path, lists: .init(train: "train.txt", test: "test.txt"))
        assertDataError(try DatasetScanner.scan(twice), mentions: ["sub1", "train.txt line 1", "test.txt line 1"]) {
            if case .duplicateCase = $0 { return true } else { return false }
        }
        let missingList = DatasetSpec(name: "eadc", layout: .list, root: folder.path, lists: .init(train: "nope.txt"))
        assertDataError(try DatasetScanner.scan(missingList), mentions: ["nope.txt"])
    }

    func testListFilesWithAnotherLayoutMustNameScannedCases() throws {
        let folder = try TemporaryFolder()
        for id in ["a", "b", "c", "d"] { try TinyCase.write(in: folder, image: "img/\(id).nii.gz", label: "seg/\(id).nii.gz") }
        try folder.writeText("a\nb\n", to: "test.txt")
        var spec = DatasetSpec(name: "p", layout: .pairs, root: folder.path, images: "img/*.nii.gz", labels: "seg/*.nii.gz",
                               lists: .init(test: "test.txt"), split: SplitSpec(validation: .count(1), test: .count(3)))
        let dataset = try Dataset(spec: spec)
        XCTAssertEqual(dataset.splits.test, ["a", "b"], "the list wins over split.test")
        XCTAssertEqual(dataset.splits.validation.count, 1)
        XCTAssertEqual(dataset.splits.trainingPool.count, 1)
        try folder.writeText("a\nzz\n", to: "test.txt")
        spec.name = "q"
        assertDataError(try DatasetScanner.scan(spec), mentions: ["'zz'", "test.txt line 2"]) {
            if case .unknownCase = $0 { return true } else { return false }
        }
    }

    // MARK: analyze

    /// LPBA40-style ANALYZE atlases: `S01/S01.native.mri.hdr/.img` + `S01.native.label.hdr/.img`.
    func testAnalyzeAtlasesWithSelectedLabels() throws {
        let folder = try TemporaryFolder()
        let shape = [5, 4, 3]
        for n in 1...3 {
            let id = String(format: "S%02d", n)
            let image = try Volume(shape: shape, voxels: (0..<60).map { Float($0 % 9 + 20) }, spacing: [0.86, 1.5, 0.86])
            let label = try Volume(shape: shape, voxels: (0..<60).map { Float([0, 165, 166, 21, 0][$0 % 5]) }, spacing: [0.86, 1.5, 0.86])
            try TinyCase.writeAnalyze(image, in: folder, name: "\(id)/\(id).native.mri")
            if n != 3 { try TinyCase.writeAnalyze(label, in: folder, name: "\(id)/\(id).native.label") }
        }
        try TinyCase.writeAnalyze(try TinyCase.image(), in: folder, name: "S01/S01.native.brain.mask")
        try FileManager.default.removeItem(at: folder.file("S02/S02.native.label.img"))   // header without .img
        let spec = DatasetSpec(name: "lpba40", layout: .analyze, root: folder.path, labelMap: .select([165, 166]),
                               split: SplitSpec(validation: .count(0), test: .count(0)))
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(scan.caseIDs, ["S01"])
        XCTAssertEqual(scan.skippedReason("S02/S02.native.label.hdr"), "ANALYZE header without its .img file")
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("S02/S02.native.mri.hdr")).hasPrefix("no label"))
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("S03/S03.native.mri.hdr")).hasPrefix("no label"))
        XCTAssertTrue(try XCTUnwrap(scan.skippedReason("S01/S01.native.brain.mask.hdr")).hasPrefix("matches neither"))
        XCTAssertNil(scan.skippedReason("S01/S01.native.mri.img"), "the .img half of a used header is not junk")

        let dataset = try Dataset(spec: spec, scan: scan)
        let prepared = try dataset.prepared("S01")
        XCTAssertEqual(prepared.spacing.map { ($0 * 100).rounded() / 100 }, [0.86, 1.5, 0.86])
        // Codes 165 and 166 → 1, code 21 → 0.
        let expected = (0..<60).map { Float([0, 1, 1, 0, 0][$0 % 5]) }
        XCTAssertEqual(prepared.label, expected)
    }

    // MARK: synthetic

    func testDataCheckOfASyntheticSet() throws {
        let spec = DatasetSpec(name: "syn", layout: .synthetic, split: SplitSpec(validation: .count(1), test: .count(2)),
                               synthetic: SyntheticSpec(style: .hfh, subjects: 6, splitSides: true))
        let report = try DataCheck.check(spec)
        XCTAssertEqual(report.usableCases, 6)
        XCTAssertEqual(report.labelValues.map(\.value), [0, 1, 2])
        XCTAssertEqual(report.shapes?.min, [64, 64, 56])
        XCTAssertEqual(report.orientations, ["RAS": 6])
        XCTAssertEqual(report.split?.trainingPool, 3)
        XCTAssertTrue(report.text.contains("usable cases: 6"), report.text)
        // A data set that cannot be scanned gets an error report, the others still run.
        let summary = DataCheck.run([DatasetSpec(name: "gone", layout: .msd, root: "/nonexistent"), spec])
        XCTAssertNotNil(summary.datasets[0].error)
        XCTAssertNil(summary.datasets[1].error)
        XCTAssertTrue(summary.text.contains("/nonexistent"))
        let json = try JSONEncoder().encode(summary)
        XCTAssertEqual(try JSONDecoder().decode(DataCheckSummary.self, from: json), summary)
    }

    func testSyntheticLayoutListsSubjectsWithoutGeneratingThem() throws {
        let spec = DatasetSpec(name: "syn", layout: .synthetic, synthetic: SyntheticSpec(style: .lpba40))
        let scan = try DatasetScanner.scan(spec)
        XCTAssertEqual(scan.cases.count, 40)
        XCTAssertEqual(scan.caseIDs.first, "lpba40_000")
        XCTAssertEqual(scan.skipped, [])
    }
}
