import Backbones
import Foundation
import XCTest

/// The shared fixtures folder: $HIPPOPEFT_SHARED, else ../shared beside the package.
func sharedFolder() -> URL {
    if let path = ProcessInfo.processInfo.environment["HIPPOPEFT_SHARED"] { return URL(fileURLWithPath: path) }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
}

final class ParityTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        let folder = sharedFolder().appendingPathComponent("fixtures/parity/\(name)")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            throw XCTSkip("parity fixture \(folder.path) is absent")
        }
        return folder
    }

    private func check(_ name: String) throws {
        let report = try runParity(fixture: try fixture(name))
        print("parity \(name): logits \(report.logits.relativeError), grad_input \(report.gradInput.relativeError), "
              + "worst gradient \(report.worstGradient.name) \(report.worstGradient.relativeError), \(report.gradientsCompared) gradients, module scale: \(report.moduleScaleGradients), "
              + "branches flipped: \(report.kinkBranchesFlipped), \(report.passes) passes")
        XCTAssert(report.passed, "failures: \(report.failures.map { "\($0.name) \($0.relativeError)" })")
    }

    func testUNETRTiny() throws { try check("unetr-tiny") }
    func testSwinUNETRTiny() throws { try check("swinunetr-tiny") }
}
