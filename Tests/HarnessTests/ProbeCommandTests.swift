import Foundation
import TestSupport
import XCTest

/// Issue 20's six probes and three messages, through the real command line: each test is the probe
/// as it was run, and asserts the guarantee it restores (docs/RELIABILITY.md, "Probes of round two").
final class ProbeCommandTests: XCTestCase {
    private func spec(_ yaml: String, in folder: URL) throws {
        try yaml.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
    }

    private func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    /// A spec on an MSD-layout root with a 16³ UNETR of `outChannels` outputs: one cell, one epoch.
    private func msdSpec(root: String, outChannels: Int = 2, labelMap: String? = nil, split: String = "{validation: 1, test: 1}") -> String {
        """
        name: probe
        backbone:
          name: unetr
          args: {in_channels: 1, out_channels: \(outChannels), img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, mlp_dim: 48, num_heads: 2}
        datasets:
          - name: msd
            layout: msd
            root: \(root)
        \(labelMap.map { "    label_map: \($0)\n" } ?? "")    split: \(split)
        budgets: [2]
        methods: [linear_probe]
        training: {epochs: 1, batch_size: 2}
        """
    }

    // 1. MSD labels {0, 1, 2}, out_channels 2, no label_map: refused by data check, plan and run, one line.
    func testUnrepresentableLabelIsRefusedBeforeAnyWork() throws {
        let msd = try SharedData.msdHippocampus()
        let folder = try temporaryFolder("probe-labels")
        defer { try? FileManager.default.removeItem(at: folder) }
        try spec(msdSpec(root: msd.path), in: folder)
        let expected = ["data set 'msd'", "labelsTr/hippocampus_", "label value 2", "out_channels 2"]
        for command in [["plan", "spec.yaml", "--no-measure"], ["run", "spec.yaml", "--results", "out"]] {
            let output = try HarnessProcess.run(command, in: folder)
            XCTAssertEqual(output.status, 1, "\(command): \(output.stderr)")
            XCTAssertEqual(lines(output.stderr).count, 1, output.stderr)
            for text in expected { XCTAssertTrue(output.stderr.contains(text), "\(command): \(output.stderr)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/cells").path), "run started work")
        let check = try HarnessProcess.run(["data", "check", "spec.yaml"], in: folder)
        XCTAssertEqual(check.status, 1, check.stderr)
        XCTAssertTrue(check.stdout.contains("usable cases: 0"), check.stdout)
        for text in expected { XCTAssertTrue(check.stdout.contains(text), check.stdout) }
        // With the map the papers use, all three accept the data.
        try spec(msdSpec(root: msd.path, labelMap: "{1: 1, 2: 1}"), in: folder)
        XCTAssertEqual(try HarnessProcess.run(["plan", "spec.yaml", "--no-measure"], in: folder).status, 0)
    }

    // 2. A ~1 MB .nii.gz claiming 2·10^8 voxels under a 4 GB address-space limit: one line, status 1.
    func testHugeDecodedSizeIsRefusedUnderAMemoryLimit() throws {
        let folder = try temporaryFolder("probe-size")
        defer { try? FileManager.default.removeItem(at: folder) }
        var header = [UInt8](repeating: 0, count: 352)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        put(Int32(348), at: 0)
        for (n, dim) in [3, 1000, 1000, 200, 1, 1, 1, 1].enumerated() { put(Int16(dim), at: 40 + 2 * n) }
        put(Int16(2), at: 70)   // uint8
        put(Int16(8), at: 72)
        for n in 0..<4 { put(Float(1).bitPattern, at: 76 + 4 * n) }
        put(Float(352).bitPattern, at: 108)
        header.replaceSubrange(344..<348, with: Array("n+1\0".utf8))
        try Data(header).write(to: folder.appendingPathComponent("header.bin"))
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/bin/sh")
        make.arguments = ["-c", "(cat header.bin; head -c 200000000 /dev/zero) | gzip -9 > big.nii.gz"]
        make.currentDirectoryURL = folder
        try make.run()
        make.waitUntilExit()
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("big.nii.gz").path)[.size] as? Int)
        XCTAssertLessThan(size, 1 << 20)

        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "ulimit -v 4000000; exec \"$0\" evaluate --pred big.nii.gz --ref big.nii.gz", HarnessProcess.executable.path]
        shell.currentDirectoryURL = folder
        let err = Pipe()
        shell.standardError = err
        shell.standardOutput = Pipe()
        try shell.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationReason, .exit, stderr)
        XCTAssertEqual(shell.terminationStatus, 1, stderr)
        XCTAssertEqual(lines(stderr).count, 1, stderr)
        XCTAssertTrue(stderr.hasPrefix("error: big.nii.gz: 200000000 voxels"), stderr)
        XCTAssertTrue(stderr.contains("refused before allocating"), stderr)
    }

    // 3. name: "../../../x" must not write outside results/.
    func testSpecNameCannotLeaveTheResultsFolder() throws {
        let folder = try temporaryFolder("probe-name")
        defer { try? FileManager.default.removeItem(at: folder) }
        let work = folder.appendingPathComponent("a/b/c")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try spec(tinySpec.replacingOccurrences(of: "name: tiny", with: "name: \"../../../x\""), in: work)
        let output = try HarnessProcess.run(["run", "spec.yaml", "--quiet"], in: work)
        XCTAssertEqual(output.status, 1, output.stderr)
        XCTAssertTrue(output.stderr.contains("'name'") && output.stderr.contains("results folder"), output.stderr)
        XCTAssertEqual(lines(output.stderr).first.map { $0.hasPrefix("error: ") }, true, output.stderr)
        let everything = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).sorted()
        XCTAssertEqual(everything, ["a", "a/b", "a/b/c", "a/b/c/spec.yaml"], "something was written")
    }

    // 4. A data error is a failed cell: run exits 1, data check too; once fixed, the rerun retries the cell.
    func testFailedCellIsRetriedOnceTheDataIsFixed() throws {
        let msd = try SharedData.msdHippocampus()
        let folder = try temporaryFolder("probe-retry")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = folder.appendingPathComponent("data")
        let manager = FileManager.default
        for sub in ["imagesTr", "labelsTr"] { try manager.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true) }
        let ids = ["hippocampus_001", "hippocampus_003", "hippocampus_004", "hippocampus_006"]
        for id in ids {
            for sub in ["imagesTr", "labelsTr"] {
                try manager.copyItem(at: msd.appendingPathComponent("\(sub)/\(id).nii.gz"), to: root.appendingPathComponent("\(sub)/\(id).nii.gz"))
            }
        }
        let entries = ids.map { "{\"image\": \"./imagesTr/\($0).nii.gz\", \"label\": \"./labelsTr/\($0).nii.gz\"}" }
        try "{\"training\": [\(entries.joined(separator: ", "))]}".write(to: root.appendingPathComponent("dataset.json"), atomically: true, encoding: .utf8)
        try spec(msdSpec(root: root.path, labelMap: "{1: 1, 2: 1}"), in: folder)
        // Break every label (cut short): whichever cases the split picks, the cell fails.
        for id in ids {
            let url = root.appendingPathComponent("labelsTr/\(id).nii.gz")
            try Data(try Data(contentsOf: url).prefix(200)).write(to: url)
        }
        let check = try HarnessProcess.run(["data", "check", "spec.yaml"], in: folder)
        XCTAssertEqual(check.status, 1, check.stderr)
        XCTAssertTrue(check.stdout.contains("usable cases: 0"), check.stdout)
        let failed = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertTrue(lines(failed.stderr).last?.contains("1 cell(s) failed") ?? false, failed.stderr)
        let cells = folder.appendingPathComponent("out/cells")
        let record = try XCTUnwrap(try manager.contentsOfDirectory(atPath: cells.path).first { $0.hasSuffix(".json") })
        XCTAssertTrue(try String(contentsOf: cells.appendingPathComponent(record), encoding: .utf8).contains("\"failed\""))

        for id in ids {
            try manager.removeItem(at: root.appendingPathComponent("labelsTr/\(id).nii.gz"))
            try manager.copyItem(at: msd.appendingPathComponent("labelsTr/\(id).nii.gz"), to: root.appendingPathComponent("labelsTr/\(id).nii.gz"))
        }
        XCTAssertEqual(try HarnessProcess.run(["data", "check", "spec.yaml"], in: folder).status, 0)
        let fixed = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        let text = try String(contentsOf: cells.appendingPathComponent(record), encoding: .utf8)
        XCTAssertTrue(text.contains("\"done\""), text)
        // A finished cell is never rerun: the record stays byte for byte.
        let again = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOf: cells.appendingPathComponent(record), encoding: .utf8), text)
    }

    // 5. A label that is a link to a file outside the root: refused, and no byte of the file is shown.
    func testLinkOutOfTheDataRootIsRefusedWithoutEchoingTheFile() throws {
        let folder = try temporaryFolder("probe-link")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = folder.appendingPathComponent("data"), manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("imagesTr"), withIntermediateDirectories: true)
        try manager.createDirectory(at: root.appendingPathComponent("labelsTr"), withIntermediateDirectories: true)
        try "SECRET-CONTENT-1234".write(to: folder.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        try Data("not read".utf8).write(to: root.appendingPathComponent("imagesTr/a.nii.gz"))
        try manager.createSymbolicLink(atPath: root.appendingPathComponent("labelsTr/a.nii.gz").path,
                                       withDestinationPath: folder.appendingPathComponent("secret.txt").path)
        try #"{"training": [{"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"}]}"#
            .write(to: root.appendingPathComponent("dataset.json"), atomically: true, encoding: .utf8)
        try spec(msdSpec(root: root.path, labelMap: "{1: 1}", split: "{validation: 0, test: 0}"), in: folder)
        for command in [["data", "check", "spec.yaml"], ["run", "spec.yaml", "--results", "out"]] {
            let output = try HarnessProcess.run(command, in: folder)
            XCTAssertEqual(output.status, 1, "\(command): \(output.stderr)")
            XCTAssertTrue((output.stdout + output.stderr).contains("symbolic link"), "\(command): \(output.stdout)\(output.stderr)")
            XCTAssertFalse((output.stdout + output.stderr).contains("SECRET"), "\(command) echoed the refused file")
        }
    }

    // 6. Two runners on one folder: the report of the one that ends last covers both runners' cells.
    func testReportOfASecondRunnerCoversEveryRecordOnDisk() throws {
        let folder = try temporaryFolder("probe-report")
        defer { try? FileManager.default.removeItem(at: folder) }
        try spec(tinySpec.replacingOccurrences(of: "budgets: [2, 4]", with: "budgets: [2]")
                    .replacingOccurrences(of: "epochs: 2", with: "epochs: 1"), in: folder)
        let first = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--only", "method=linear_probe", "--quiet"], in: folder)
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--only", "method=lora", "--quiet"], in: folder)
        XCTAssertEqual(second.status, 0, second.stderr)
        let csv = try String(contentsOf: folder.appendingPathComponent("out/report.csv"), encoding: .utf8)
        // RFC 4180 lines end in CRLF, which Swift reads as one Character.
        let methods = csv.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[4] }
        XCTAssertEqual(methods.sorted(), ["linear_probe", "lora"], csv)
        XCTAssertTrue(second.stdout.contains("linear_probe"), second.stdout)
    }

    // Also: a file in the results path, named as such.
    func testResultsBelowAFileNamesTheFile() throws {
        let folder = try temporaryFolder("probe-results")
        defer { try? FileManager.default.removeItem(at: folder) }
        try spec(tinySpec, in: folder)
        try Data("x".utf8).write(to: folder.appendingPathComponent("afile"))
        let output = try HarnessProcess.run(["run", "spec.yaml", "--results", "afile/sub"], in: folder)
        XCTAssertEqual(output.status, 1)
        XCTAssertEqual(lines(output.stderr).count, 1, output.stderr)
        XCTAssertTrue(output.stderr.contains("\(folder.path)/afile: it is a file"), output.stderr)
        XCTAssertFalse(output.stderr.contains("NSCocoaErrorDomain"), output.stderr)
    }
}
