import Foundation
import XCTest

/// `harness slurm` asks for what `harness plan` measured (cores, time, memory), and a value the user gives,
/// in the spec or as a flag, wins. The job script is only written, never submitted.
final class SlurmResourcesCommandTests: XCTestCase {
    private func script(_ folder: URL) throws -> String {
        try String(contentsOf: folder.appendingPathComponent("out/slurm/cells.sbatch"), encoding: .utf8)
    }

    private func line(_ name: String, in script: String) -> String? {
        script.split(separator: "\n").first { $0.hasPrefix("#SBATCH --\(name)=") }.map(String.init)
    }

    func testSlurmAsksForTheMeasuredResourcesUnlessGiven() throws {
        let folder = try temporaryFolder("slurm-resources")
        defer { try? FileManager.default.removeItem(at: folder) }
        try tinySpec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let threads = ["HIPPOPEFT_THREADS": "2"]

        // Nothing measured yet: the defaults, and `plan --no-measure` says it has no costs.
        var output = try HarnessProcess.run(["plan", "spec.yaml", "--no-measure", "--results", "out"], environment: threads, in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssert(output.stdout.contains("no costs are given"), output.stdout)
        output = try HarnessProcess.run(["slurm", "spec.yaml", "--results", "out"], environment: threads, in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(line("time", in: try script(folder)), "#SBATCH --time=24:00:00")

        // `plan` measures (and caches) each configuration; `slurm` then asks for what it measured.
        output = try HarnessProcess.run(["plan", "spec.yaml", "--results", "out", "--json"], environment: threads, in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        let plan = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [String: Any]
        let request = plan["slurm"] as! [String: Any]
        let memory = request["mem"] as! String, time = request["time"] as! String
        XCTAssertEqual(request["cpus_per_task"] as? Int, 2)
        XCTAssert(memory.hasSuffix("G") && Int(memory.dropLast())! >= 2, memory)
        XCTAssertEqual(time, "01:00:00", "a tiny sweep takes under an hour")
        XCTAssertGreaterThan(plan["estimatedCoreHours"] as? Double ?? 0, 0)
        output = try HarnessProcess.run(["slurm", "spec.yaml", "--results", "out"], environment: threads, in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        var text = try script(folder)
        XCTAssertEqual(line("cpus-per-task", in: text), "#SBATCH --cpus-per-task=2")
        XCTAssertEqual(line("mem", in: text), "#SBATCH --mem=\(memory)")
        XCTAssertEqual(line("time", in: text), "#SBATCH --time=\(time)")
        XCTAssert(output.stdout.contains("mem = the largest step peak"), output.stdout)

        // The spec's `slurm:` wins over the measurements, and a flag over the spec.
        try (tinySpec + "\nslurm: {time: '2-00:00:00', mem: 40G}\n")
            .write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        output = try HarnessProcess.run(["slurm", "spec.yaml", "--results", "out", "--mem", "64G"], environment: threads, in: folder)
        XCTAssertEqual(output.status, 0, output.stderr)
        text = try script(folder)
        XCTAssertEqual(line("time", in: text), "#SBATCH --time=2-00:00:00")
        XCTAssertEqual(line("mem", in: text), "#SBATCH --mem=64G")
        XCTAssertEqual(line("cpus-per-task", in: text), "#SBATCH --cpus-per-task=2", "still the measured cores")

        // A value that is not Slurm's form never reaches the script: one line naming the flag, exit non-zero.
        output = try HarnessProcess.run(["slurm", "spec.yaml", "--results", "out", "--time", "1\n#SBATCH --wrap=x"],
                                        environment: threads, in: folder)
        XCTAssertNotEqual(output.status, 0)
        let errors = output.stderr.split(separator: "\n").filter { $0.contains("error:") }
        XCTAssertEqual(errors.count, 1, output.stderr)
        XCTAssert(errors.first?.contains("--time") == true, output.stderr)
        XCTAssertEqual(line("mem", in: try script(folder)), "#SBATCH --mem=64G", "the previous script is untouched")
    }
}
