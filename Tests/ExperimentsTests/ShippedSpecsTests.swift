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

    func testQuickstartNeedsNoData() throws {
        let spec = try SpecLoader.load(experiments.appendingPathComponent("quickstart.yaml"), environment: [:])
        XCTAssertEqual(spec.methods.map(\.label), ["full", "linear_probe", "lora", "adapter", "hyps", "lora_pt"])
    }
}
