import Foundation
import TestSupport
import XCTest

/// `harness checkpoint inspect|convert` on the shared PyTorch fixtures, and `harness predict --weights`
/// with a converted checkpoint on MSD images.
final class CheckpointCommandTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL { try SharedData.fixture("checkpoints/\(name)") }

    /// configs.json's entry for `name`, as a backbone config.json.
    private func config(for name: String, in folder: URL) throws -> URL {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture("configs.json"))) as! [String: Any]
        let url = folder.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: (all["configs"] as! [String: Any])[name]!).write(to: url)
        return url
    }

    func testInspectConvertAndPredictWithAConvertedCheckpoint() throws {
        let folder = try temporaryFolder("checkpoint-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let authors = try fixture("unetr-tiny-authors.pth")

        let inspect = try HarnessProcess.run(["checkpoint", "inspect", authors.path, "--json"])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["format"] as? String, "zip")
        XCTAssertEqual(report["wrapper_keys"] as? [String], ["state_dict"])
        XCTAssertEqual(report["stripped_prefixes"] as? [String], ["module."])
        let tensors = report["tensors"] as! [[String: Any]]
        XCTAssertTrue(tensors.allSatisfy { !($0["name"] as! String).hasPrefix("module.") })
        let total = tensors.reduce(0) { $0 + ($1["shape"] as! [Int]).reduce(1, *) }
        XCTAssertEqual(report["parameter_count"] as? Int, total)

        // Convert, checked against the configuration; the norm_cross_attn layers are reported.
        let backbone = try config(for: "unetr-tiny-authors.pth", in: folder)
        let converted = folder.appendingPathComponent("authors.safetensors")
        let convert = try HarnessProcess.run(["checkpoint", "convert", authors.path, converted.path, "--backbone", backbone.path])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertTrue(convert.stderr.contains("norm_cross_attn"), convert.stderr)
        let expected = try Data(contentsOf: try fixture("unetr-tiny-authors.expected.safetensors"))
        XCTAssertGreaterThanOrEqual(try Data(contentsOf: converted).count, expected.count - 1024)

        // A configuration it does not fit: every offending key, nothing written.
        let swin = try config(for: "swinunetr-tiny-authors.pth", in: folder)
        let wrong = folder.appendingPathComponent("wrong.safetensors")
        let mismatch = try HarnessProcess.run(["checkpoint", "convert", authors.path, wrong.path, "--backbone", swin.path])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stderr.hasPrefix("error: unetr-tiny-authors.pth: checkpoint does not match"), mismatch.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: wrong.path))

        // The hostile pickle: one line naming file and global, nothing run.
        try? FileManager.default.removeItem(atPath: "/tmp/hippopeft-evil-ran")
        let evil = try HarnessProcess.run(["checkpoint", "inspect", try fixture("evil-reduce.pth").path])
        XCTAssertEqual(evil.status, 1)
        XCTAssertEqual(evil.stderr.split(separator: "\n").count, 1, evil.stderr)
        XCTAssertTrue(evil.stderr.contains("evil-reduce.pth") && evil.stderr.contains("posix.system"), evil.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/hippopeft-evil-ran"))

        // predict with the .pth itself as weights, on two MSD images.
        let imagesFolder = SharedData.root.appendingPathComponent("msd-hippocampus/imagesTr")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: imagesFolder.path).filter({ $0.hasSuffix(".nii.gz") }).sorted().prefix(2),
              names.count == 2 else { throw XCTSkip("MSD images absent at \(imagesFolder.path)") }
        let out = folder.appendingPathComponent("predicted")
        let predict = try HarnessProcess.run(["predict", "--weights", authors.path, "--backbone", backbone.path,
                                              "--images"] + names.map { imagesFolder.appendingPathComponent($0).path } + ["--out", out.path])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        for name in names { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name) }
        let table = try String(contentsOf: out.appendingPathComponent("volumes.csv"), encoding: .utf8)
        XCTAssertEqual(table.split(separator: "\n").count, 3, table)
        XCTAssertTrue(predict.stderr.contains("[2/2]"), predict.stderr)
        XCTAssertTrue(predict.stderr.contains("lacks 24 tensors the forward pass never uses (vit.blocks.0.norm_cross_attn"), predict.stderr)
    }
}
