import Foundation
import XCTest

/// A results folder that refuses writes (full disk, read-only, a file in the way) stops the sweep with
/// one line naming the path; finished records stay as they were, the refused cell gets no record (a
/// failed record would make every later run skip it), and the next run finishes the sweep exactly as
/// an undisturbed run does. Full disk and read-only file systems need root (tmpfs): scripts/full-disk.
final class ResultsFolderTests: XCTestCase {
    private func records(in folder: URL) throws -> [String: NSDictionary] {
        let cells = folder.appendingPathComponent("cells")
        var result: [String: NSDictionary] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: cells.path) where name.hasSuffix(".json") {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: cells.appendingPathComponent(name))) as! [String: Any]
            object["timing"] = nil
            result[name] = NSDictionary(dictionary: object)
        }
        return result
    }

    private func files(under folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
                out[String(url.path.dropFirst(folder.path.count))] = try Data(contentsOf: url)
            }
        }
        return out
    }

    func testResultsPathThatIsAFileIsOneLineNamingIt() throws {
        let folder = try temporaryFolder("results-file")
        defer { try? FileManager.default.removeItem(at: folder) }
        try tinySpec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        try Data("not a folder".utf8).write(to: folder.appendingPathComponent("taken"))
        let output = try HarnessProcess.run(["run", "spec.yaml", "--results", "taken"], in: folder)
        XCTAssertEqual(output.status, 1)
        let lines = output.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, output.stderr)
        XCTAssert(output.stderr.hasPrefix("error: cannot write to the results folder at \(folder.path)/taken"), output.stderr)
    }

    func testRefusedWriteStopsTheSweepAndARerunEndsLikeAnUndisturbedRun() throws {
        let folder = try temporaryFolder("results-refused")
        defer { try? FileManager.default.removeItem(at: folder) }
        try tinySpec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let reference = try HarnessProcess.run(["run", "spec.yaml", "--results", "reference", "--quiet"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try records(in: folder.appendingPathComponent("reference"))
        let lora = expected.filter { $0.value["method"] as? String == "lora" }.map { String($0.key.dropLast(5)) }
        XCTAssertEqual(lora.count, 2)

        // Half the sweep finishes; then the work folders of the other half are blocked by files.
        let out = folder.appendingPathComponent("out")
        let first = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--only", "method=linear_probe", "--quiet"], in: folder)
        XCTAssertEqual(first.status, 0, first.stderr)
        let finished = try files(under: out.appendingPathComponent("cells"))
        XCTAssertEqual(finished.count, 2)
        for key in lora { try Data().write(to: out.appendingPathComponent("work/\(key)")) }

        let refused = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssert(refused.stderr.hasPrefix("error: cannot write to the results folder at \(out.path)/work/"), refused.stderr)
        XCTAssertEqual(try files(under: out.appendingPathComponent("cells")), finished, "finished records changed or a record was added")

        // Space is back: the rerun ends with the undisturbed run's records (timings aside) and weights.
        for key in lora { try FileManager.default.removeItem(at: out.appendingPathComponent("work/\(key)")) }
        let rerun = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try records(in: out), expected)
        XCTAssertEqual(try files(under: out.appendingPathComponent("models")),
                       try files(under: folder.appendingPathComponent("reference/models")), "trained weights differ")
    }
}
