import ConfigDecoding
import Experiments
import Foundation
import TestSupport
import XCTest

/// The specs in experiments/ are what users run first: each must pass schema validation as shipped.
/// The paper specs point at data sets and checkpoints users hold; with their variables set to
/// folders that do not exist, the only problems allowed are those missing files.
final class ShippedSpecsTests: XCTestCase {
    private let experiments = SharedData.packageRoot.appendingPathComponent("experiments")

    private func sweepSpecs() throws -> [URL] {
        let walker = FileManager.default.enumerator(at: experiments, includingPropertiesForKeys: nil)!
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "yaml" && $0.lastPathComponent != "diagnosis.yaml" }
            .sorted { $0.path < $1.path }
    }

    func testEveryShippedSpecValidates() throws {
        let specs = try sweepSpecs()
        XCTAssertGreaterThanOrEqual(specs.count, 5, "\(specs.map(\.lastPathComponent))")
        let absent = "/nonexistent-hippopeft-data"
        let environment = ["HIPPOPEFT_DATA": absent, "HARP_ROOT": absent + "/harp", "LPBA40_ROOT": absent + "/lpba40",
                           "HFH_ROOT": absent + "/hfh", "HYPS_WEIGHTS": absent + "/swin.safetensors",
                           "LORAPT_WEIGHTS": absent + "/unetr.safetensors"]
        for url in specs {
            do {
                _ = try SpecLoader.load(url, environment: environment)
            } catch let error as SpecError {
                let unexpected = error.issues.filter { !$0.message.contains("does not exist") }
                XCTAssert(unexpected.isEmpty, "\(url.lastPathComponent): \(unexpected)")
                XCTAssert(error.issues.allSatisfy { $0.description.contains(absent) || $0.message.contains(absent) },
                          "\(url.lastPathComponent): \(error)")
            }
        }
    }

    /// A cell's key is the digest of everything that changes its outcome, so a refactor that changes how
    /// a setting is read or written must leave the keys alone: every record committed under results/
    /// must still be a cell of its spec, or `harness run` would redo it and the tables would go stale.
    func testCommittedResultsAreStillCellsOfTheirSpecs() throws {
        let results = SharedData.packageRoot.appendingPathComponent("results")
        let folders = try FileManager.default.contentsOfDirectory(atPath: results.path).sorted()
        var checked = 0
        for name in folders {
            let specURL = experiments.appendingPathComponent("\(name).yaml")
            let cells = results.appendingPathComponent("\(name)/cells")
            guard FileManager.default.fileExists(atPath: specURL.path),
                  let records = try? FileManager.default.contentsOfDirectory(atPath: cells.path) else { continue }
            let spec = try SpecLoader.load(specURL, environment: ["HIPPOPEFT_DATA": SharedData.root.path])
            let keys = Set(try SweepRunner(spec: spec, store: ResultStore(root: results.appendingPathComponent(name))).cells().map(\.key))
            let committed = Set(records.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
            if committed.isEmpty { continue }  // a study that has not finished a cell yet
            XCTAssert(committed.isSubset(of: keys), "\(name): \(committed.subtracting(keys).count) committed records are no longer cells of experiments/\(name).yaml")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 1, "results/quickstart at least")
    }

    func testQuickstartNeedsNoData() throws {
        let spec = try SpecLoader.load(experiments.appendingPathComponent("quickstart.yaml"), environment: [:])
        XCTAssertEqual(spec.methods.map(\.label), ["full", "linear_probe", "lora", "adapter", "hyps", "lora_pt"])
    }
}
