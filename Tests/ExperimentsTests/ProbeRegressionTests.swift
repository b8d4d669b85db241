import ConfigDecoding
import Experiments
import Foundation
import TestSupport
import Volumes
import XCTest

/// Regression tests for issue 20's probes at the library level: labels the network cannot represent,
/// symbolic links out of the data root, spec names that leave the results folder, and the messages
/// for a YAML syntax error and a negative seed. The command-line halves are in HarnessTests.
final class ProbeRegressionTests: XCTestCase {
    /// Three pairs whose labels hold 0, 1 and 2 (TinyCase), found by a `pairs` layout.
    private func threeClassPairs(_ folder: TemporaryFolder, labelMap: LabelMap? = nil) throws -> DatasetSpec {
        for id in ["a", "b", "c"] { try TinyCase.write(in: folder, image: "img/\(id).nii.gz", label: "seg/\(id).nii.gz") }
        return DatasetSpec(name: "three", layout: .pairs, root: folder.path, images: "img/*.nii.gz", labels: "seg/*.nii.gz",
                           labelMap: labelMap, split: SplitSpec(validation: .count(0), test: .count(1)))
    }

    // MARK: 1. labels

    func testLabelOutsideOutChannelsIsRefusedNamingDatasetFileValueAndChannels() throws {
        let folder = try TemporaryFolder()
        let spec = try threeClassPairs(folder)
        let requirement = LabelRange.Requirement(dataset: spec, outChannels: 2, backbone: "unetr")
        let error = assertDataError(try LabelRange.check(requirement),
                                    mentions: ["data set 'three'", "seg/a.nii.gz", "label value 2", "out_channels 2", "label_map"])
        XCTAssertNotNil(error)
        // data check lists every such case and counts none of them as usable.
        let report = try DataCheck.check(spec, requirement: requirement)
        XCTAssertEqual(report.problems.count, 3, report.text)
        XCTAssertEqual(report.usableCases, 0, report.text)
        XCTAssertTrue(report.problems[0].message.contains("out_channels 2"), report.problems[0].message)
        XCTAssertEqual(DataCheckSummary(datasets: [report]).errorCount, 3, report.text)

        // Enough channels, or a label map into them: accepted.
        XCTAssertNoThrow(try LabelRange.check(.init(dataset: spec, outChannels: 3, backbone: "unetr")))
        var mapped = spec
        mapped.labelMap = .map([1: 1, 2: 1])
        XCTAssertNoThrow(try LabelRange.check(.init(dataset: mapped, outChannels: 2, backbone: "unetr")))
        XCTAssertEqual(try DataCheck.check(mapped, requirement: .init(dataset: mapped, outChannels: 2, backbone: "u")).usableCases, 3)
        // A map into a class the network lacks is refused with the class named.
        mapped.labelMap = .map([1: 1, 2: 2])
        assertDataError(try LabelRange.check(.init(dataset: mapped, outChannels: 2, backbone: "unetr")),
                        mentions: ["label value 2 (class 2 after label_map)"])
    }

    func testNegativeLabelIsRefusedEverywhereItCouldReachTheLoss() throws {
        let folder = try TemporaryFolder()
        try NIfTI.write(try TinyCase.image(), to: try folder.prepare("img/a.nii.gz"))
        var label = try TinyCase.label()
        label.voxels[3] = -1
        try NIfTI.write(label, to: try folder.prepare("seg/a.nii.gz"), datatype: .int16)
        let spec = DatasetSpec(name: "neg", layout: .pairs, root: folder.path, images: "img/*.nii.gz", labels: "seg/*.nii.gz")
        assertDataError(try LabelRange.check(.init(dataset: spec, outChannels: 2, backbone: "unetr")),
                        mentions: ["label value -1", "0 (background) or more"])
        // The guard a cell runs on prepared cases, whatever ran before it.
        let prepared = try Dataset(spec: DatasetSpec(name: "neg", layout: .pairs, root: folder.path, images: "img/*.nii.gz",
                                                     labels: "seg/*.nii.gz", split: SplitSpec(validation: .count(0), test: .count(0))))
            .prepared("a")
        assertDataError(try LabelRange.require([prepared], outChannels: 2, backbone: "unetr"), mentions: ["label value -1"])
    }

    func testSpecRequirementsUseTheTightestBackbone() throws {
        let spec = try SpecLoader.parse("""
        name: two
        backbones:
          - {name: unetr, label: wide, args: {in_channels: 1, out_channels: 3, img_size: [32, 32, 32], feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4}}
          - {name: unetr, label: narrow, args: {in_channels: 1, out_channels: 2, img_size: [32, 32, 32], feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4}}
        datasets:
          - {name: sides, layout: synthetic, synthetic: {subjects: 4, split_sides: true}}
        methods: [full]
        """, file: "two.yaml")
        let requirements = LabelRange.requirements(spec)
        XCTAssertEqual(requirements.map(\.outChannels), [2])
        XCTAssertEqual(requirements.map(\.backbone), ["narrow"])
        assertDataError(try LabelRange.check(spec), mentions: ["the synthetic generator", "label value 2", "'narrow'"])
    }

    // MARK: 5. symbolic links

    func testLinksOutOfTheRootAreRefusedWithoutReadingThem() throws {
        let outside = try TemporaryFolder()
        try "TOP-SECRET-BYTES".write(to: outside.file("secret.txt"), atomically: true, encoding: .utf8)
        try TinyCase.write(in: outside, image: "img/x.nii.gz", label: "seg/x.nii.gz")
        let manager = FileManager.default

        // A label file that is a link (MSD layout).
        let msd = try TemporaryFolder()
        try NIfTI.write(try TinyCase.image(), to: try msd.prepare("imagesTr/a.nii.gz"))
        _ = try msd.prepare("labelsTr/a.nii.gz")
        try manager.createSymbolicLink(atPath: msd.path + "/labelsTr/a.nii.gz", withDestinationPath: outside.path + "/secret.txt")
        try msd.writeText(#"{"training": [{"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"}]}"#, to: "dataset.json")
        let spec = DatasetSpec(name: "linked", layout: .msd, root: msd.path)
        let error = assertDataError(try DatasetScanner.scan(spec), mentions: ["symbolic link", "secret.txt", "allow_outside_root"]) {
            if case .linkOutsideRoot = $0 { return true } else { return false }
        }
        XCTAssertFalse(error?.description.contains("TOP-SECRET") ?? true)

        // dataset.json itself a link to a file outside: refused before it is parsed (a JSON error would quote it).
        let index = try TemporaryFolder()
        try manager.createSymbolicLink(atPath: index.path + "/dataset.json", withDestinationPath: outside.path + "/secret.txt")
        let indexError = assertDataError(try DatasetScanner.scan(DatasetSpec(name: "idx", layout: .msd, root: index.path)),
                                         mentions: ["dataset.json", "symbolic link"])
        XCTAssertFalse(indexError?.description.contains("TOP-SECRET") ?? true)

        // A folder that is a link (pairs layout), and a list file that is one.
        let pairs = try TemporaryFolder()
        try manager.createSymbolicLink(atPath: pairs.path + "/img", withDestinationPath: outside.path + "/img")
        try TinyCase.write(in: pairs, image: "seg/x.nii.gz", label: nil)
        let pairSpec = DatasetSpec(name: "dir", layout: .pairs, root: pairs.path, images: "img/*.nii.gz", labels: "seg/*.nii.gz")
        assertDataError(try DatasetScanner.scan(pairSpec), mentions: ["symbolic link", outside.url.lastPathComponent])
        try manager.createSymbolicLink(atPath: pairs.path + "/train.txt", withDestinationPath: outside.path + "/secret.txt")
        var listSpec = pairSpec
        listSpec.lists = .init(train: "train.txt")
        let listError = assertDataError(try DatasetScanner.scan(listSpec), mentions: ["train.txt", "symbolic link"])
        XCTAssertFalse(listError?.description.contains("TOP-SECRET") ?? true)

        // The spec may allow it; links that stay inside the root were never a problem.
        var allowed = pairSpec
        allowed.allowOutsideRoot = true
        XCTAssertEqual(try DatasetScanner.scan(allowed).caseIDs, ["x"])
        let inside = try TemporaryFolder()
        try TinyCase.write(in: inside, image: "store/x_img.nii.gz", label: "store/x_seg.nii.gz")
        try manager.createDirectory(atPath: inside.path + "/img", withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: inside.path + "/img/x.nii.gz", withDestinationPath: inside.path + "/store/x_img.nii.gz")
        try manager.createSymbolicLink(atPath: inside.path + "/seg", withDestinationPath: "store")
        let insideSpec = DatasetSpec(name: "in", layout: .pairs, root: inside.path, images: "img/*.nii.gz", labels: "seg/*_seg.nii.gz")
        XCTAssertEqual(try DatasetScanner.scan(insideSpec).caseIDs, ["x"])
    }

    // MARK: 3. names, and the spec messages

    private func issues(_ yaml: String) -> [SpecIssue] {
        do {
            _ = try SpecLoader.parse(yaml, file: "spec.yaml")
            XCTFail("expected the spec to be refused")
        } catch let error as SpecError {
            return error.issues
        } catch {
            XCTFail("\(error)")
        }
        return []
    }

    private let spec = """
    name: tiny
    backbone: {name: unetr, args: {in_channels: 1, out_channels: 2, img_size: [32, 32, 32], feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4}}
    datasets:
      - {name: toy, layout: synthetic, synthetic: {subjects: 10}}
    methods: [full]
    """

    func testNamesThatWouldLeaveTheResultsFolderAreRefused() {
        for name in ["\"../../../x\"", "..", ".", "a/b", ".hidden", "\"\""] {
            let found = issues(spec.replacingOccurrences(of: "name: tiny", with: "name: \(name)"))
            XCTAssertEqual(found.first?.path, "name", "\(name): \(found)")
            XCTAssertTrue(found.first?.message.contains("results folder") ?? false, "\(found)")
        }
        let label = issues(spec.replacingOccurrences(of: "{name: unetr, args", with: "{name: unetr, label: ../w, args"))
        XCTAssertEqual(label.first?.path, "backbone.label", "\(label)")
        let dataset = issues(spec.replacingOccurrences(of: "{name: toy", with: "{name: ..")).first
        XCTAssertEqual(dataset?.path, "datasets[0].name", "\(String(describing: dataset))")
        XCTAssertNoThrow(try SpecLoader.parse(spec.replacingOccurrences(of: "name: tiny", with: "name: a.b_c-1"), file: "s.yaml"))
    }

    func testYAMLSyntaxErrorGivesTheReasonAndABoundedExcerpt() {
        let long = String(repeating: "x", count: 5000)
        let found = issues(spec + "\nreport: {a: 1\n  b: [\(long)]\n")
        XCTAssertEqual(found.count, 1)
        let issue = found[0]
        XCTAssertTrue(issue.message.hasPrefix("YAML syntax: "), issue.message)
        XCTAssertTrue(issue.message.contains("did not find expected"), issue.message)
        XCTAssertNotNil(issue.line)
        XCTAssertLessThan(issue.description.count, 500, issue.description)
        XCTAssertTrue(issue.snippet?.contains("…") ?? false, "\(issue)")
    }

    func testNegativeSeedSaysItMustBeAtLeastZero() {
        let found = issues(spec + "\nseeds: [-1]\n")
        XCTAssertEqual(found.first?.path, "seeds[0]")
        XCTAssertTrue(found.first?.message.contains("must be an integer ≥ 0, got '-1'") ?? false, "\(found)")
    }
}
