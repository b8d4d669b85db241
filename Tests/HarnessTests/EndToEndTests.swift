import ConfigDecoding
import Foundation
import XCTest

/// The command line as users run it, in separate processes.
final class EndToEndTests: XCTestCase {
    private func records(in folder: URL) throws -> [String: [String: Any]] {
        let cells = folder.appendingPathComponent("cells")
        var result: [String: [String: Any]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: cells.path) where name.hasSuffix(".json") {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: cells.appendingPathComponent(name))) as! [String: Any]
            object["timing"] = nil
            result[name] = object
        }
        return result
    }

    func testRunEndsWithTablesAndWritesRecordsAndReports() throws {
        let folder = try temporaryFolder("run")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A reference method that is not the default (the best by Dice), so the report must know the spec's.
        try (tinySpec + "\nreport: {reference: linear_probe}\n").write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let output = try HarnessProcess.run(["run", "spec.yaml", "--results", "out", "--quiet"], in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssert(output.stdout.contains("lora"), output.stdout)
        XCTAssert(output.stdout.contains("Dice"), output.stdout)
        XCTAssertEqual(try records(in: folder.appendingPathComponent("out")).count, 4)
        for file in ["report.md", "report.csv", "report.tex", "report.html", "sweep.json"] {
            XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/\(file)").path), file)
        }
        // Each record names the BLAS kernels and CPU it was made on, and the report lists them.
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: try FileManager.default
            .contentsOfDirectory(at: folder.appendingPathComponent("out/cells"), includingPropertiesForKeys: nil)
            .first { $0.pathExtension == "json" }!)) as! [String: Any]
        let blas = try XCTUnwrap((record["timing"] as? [String: Any])?["blas"] as? String)
        XCTAssert(blas.hasPrefix("OpenBLAS ") && blas.split(separator: " ").count == 3, blas)
        let markdown = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        XCTAssert(markdown.contains("\(blas), 4 cells ("), markdown)
        // A second run finds every cell done and redoes nothing.
        let again = try HarnessProcess.run(["run", "spec.yaml", "--results", "out"], in: folder)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssert(again.stderr.contains("4 of 4 cells already done"), again.stderr)
        XCTAssert(output.stdout.contains("linear_probe (report.reference)"), output.stdout)
        // `report` rebuilds the same tables and files from the records and sweep.json alone, the spec gone.
        let reportFiles = ["report.md", "report.csv", "report.tex", "report.html", "cases.csv"]
        func contents() throws -> [String] {
            try reportFiles.map { try String(contentsOf: folder.appendingPathComponent("out/\($0)"), encoding: .utf8) }
        }
        let written = try contents()
        for file in reportFiles { try FileManager.default.removeItem(at: folder.appendingPathComponent("out/\(file)")) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("spec.yaml"))
        let report = try HarnessProcess.run(["report", "out"], in: folder)
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(report.stdout, output.stdout)
        for (file, (rebuilt, original)) in zip(reportFiles, zip(try contents(), written)) {
            XCTAssertEqual(rebuilt, original, "\(file) rebuilt by `report` differs from the one `run` wrote")
        }
    }

    func testKilledSweepResumesAndEndsWithTheRecordsOfAnUninterruptedRun() throws {
        let folder = try temporaryFolder("resume")
        defer { try? FileManager.default.removeItem(at: folder) }
        try tinySpec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        try HarnessProcess.run(["run", "spec.yaml", "--results", "reference", "--quiet"], in: folder)

        // Kill a second run once its first record exists, then rerun it.
        let process = try HarnessProcess.start(["run", "spec.yaml", "--results", "killed", "--quiet"], in: folder)
        let cells = folder.appendingPathComponent("killed/cells")
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let count = ((try? FileManager.default.contentsOfDirectory(atPath: cells.path)) ?? []).filter { $0.hasSuffix(".json") }.count
            if count >= 1 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.3)  // into the next cell's training
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let finishedBefore = try FileManager.default.contentsOfDirectory(atPath: cells.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(finishedBefore.count, 1)
        XCTAssertLessThan(finishedBefore.count, 4, "the run finished before it was killed; the test proves nothing")
        let modified = try Dictionary(uniqueKeysWithValues: finishedBefore.map {
            ($0, try FileManager.default.attributesOfItem(atPath: cells.appendingPathComponent($0).path)[.modificationDate] as! Date)
        })

        let rerun = try HarnessProcess.run(["run", "spec.yaml", "--results", "killed"], in: folder)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssert(rerun.stderr.contains("\(finishedBefore.count) of 4 cells already done"), rerun.stderr)
        for (name, date) in modified {
            let now = try FileManager.default.attributesOfItem(atPath: cells.appendingPathComponent(name).path)[.modificationDate] as! Date
            XCTAssertEqual(now, date, "\(name) was redone")
        }
        let reference = try records(in: folder.appendingPathComponent("reference"))
        let resumed = try records(in: folder.appendingPathComponent("killed"))
        XCTAssertEqual(Set(reference.keys), Set(resumed.keys))
        for (key, value) in reference {
            let differences = jsonDifferences(value, resumed[key] ?? [:])
            XCTAssert(differences.isEmpty, "record \(key) differs at \(differences.prefix(5))")
        }
    }

    func testSpecErrorsAreOneLocatedLineEachAndExitNonZero() throws {
        let folder = try temporaryFolder("errors")
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = tinySpec.replacingOccurrences(of: "epochs: 2", with: "epohcs: 2")
            .replacingOccurrences(of: "[linear_probe, lora]", with: "[linear_probe, lroa]")
        try broken.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let output = try HarnessProcess.run(["run", "spec.yaml", "--results", "out"], in: folder)
        XCTAssertNotEqual(output.status, 0)
        XCTAssert(output.stderr.contains("spec.yaml:"), output.stderr)
        XCTAssert(output.stderr.contains("did you mean"), output.stderr)
        XCTAssertFalse(output.stderr.contains("Fatal error"), output.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/cells").path),
                       "no work may start before the spec is valid")
    }

    func testMissingDataFolderIsNamed() throws {
        let folder = try temporaryFolder("missing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = tinySpec.replacingOccurrences(of: "    layout: synthetic\n    synthetic: {kind: hippocampus, style: harp, subjects: 7}",
                                                 with: "    layout: msd\n    root: /nonexistent/msd")
        try spec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let output = try HarnessProcess.run(["plan", "spec.yaml", "--no-measure"], in: folder)
        XCTAssertNotEqual(output.status, 0)
        XCTAssert(output.stderr.contains("/nonexistent/msd does not exist"), output.stderr)
    }

    /// A budget larger than a data set's training pool (7 subjects − 1 validation − 2 test = 4) is
    /// refused by `plan`, `run`, `data check` and `slurm` before any work: one line naming the data
    /// set, the budget and the pool, and a non-zero exit. The data set's own `budgets:` fixes it.
    func testABudgetLargerThanThePoolIsRefusedBeforeAnyWork() throws {
        let folder = try temporaryFolder("budgets")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tooLarge = tinySpec.replacingOccurrences(of: "budgets: [2, 4]", with: "budgets: [2, 5]")
        try tooLarge.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        for command in [["plan", "spec.yaml", "--no-measure"], ["run", "spec.yaml", "--results", "out"], ["data", "check", "spec.yaml"],
                        ["slurm", "spec.yaml", "--results", "out"]] {
            let output = try HarnessProcess.run(command, in: folder)
            XCTAssertNotEqual(output.status, 0, "\(command)")
            let errors = output.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            XCTAssertEqual(errors.count, 1, "\(command): \(output.stderr)")
            XCTAssert(errors.first?.contains("data set 'toy': training budget 5 is larger than the training pool of 4") == true,
                      "\(command): \(output.stderr)")
        }
        let cells = folder.appendingPathComponent("out/cells")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: cells.path))?.count ?? 0, 0, "no cell ran")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/slurm").path), "no job script")
        let fixed = tooLarge.replacingOccurrences(of: "    split: {validation: 1, test: 2, seed: 0}\n",
                                                  with: "    split: {validation: 1, test: 2, seed: 0}\n    budgets: [2, 4]\n")
        try fixed.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let output = try HarnessProcess.run(["plan", "spec.yaml", "--no-measure"], in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssert(output.stdout.contains("(4 training cases"), output.stdout)
    }
}
