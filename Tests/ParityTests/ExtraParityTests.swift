import Backbones
import Foundation
import Parity
import XCTest

/// Runs every parity fixture found through `HIPPOPEFT_EXTRA_FIXTURES`: a colon-separated list of
/// fixture folders (holding config.json) or of folders whose sub-folders are fixtures. Skipped when
/// unset; fixtures made with `make_parity_fixtures.py` for other configurations stay out of git.
final class ExtraParityTests: XCTestCase {
    static func fixtureFolders() -> [URL] {
        guard let list = ProcessInfo.processInfo.environment["HIPPOPEFT_EXTRA_FIXTURES"], !list.isEmpty else { return [] }
        let files = FileManager.default
        var folders: [URL] = []
        for path in list.split(separator: ":").map(String.init) {
            let url = URL(fileURLWithPath: path)
            if files.fileExists(atPath: url.appendingPathComponent("config.json").path) {
                folders.append(url)
            } else if let names = try? files.contentsOfDirectory(atPath: path) {
                folders += names.sorted().map { url.appendingPathComponent($0) }
                    .filter { files.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
            }
        }
        return folders
    }

    func testExtraFixtures() throws {
        let folders = Self.fixtureFolders()
        if folders.isEmpty { throw XCTSkip("HIPPOPEFT_EXTRA_FIXTURES is unset or names no fixture") }
        for folder in folders {
            let started = Date()
            let report = try runParity(fixture: folder)
            let seconds = String(format: "%.1f s", Date().timeIntervalSince(started))
            let errors = "logits \(report.logits.relativeError), grad_input \(report.gradInput.relativeError), "
                + "worst gradient \(report.worstGradient.name) \(report.worstGradient.relativeError)"
            let notes = "module scale: \(report.moduleScaleGradients), flipped: \(report.kinkBranchesFlipped), \(report.passes) passes"
            print("parity \(report.fixture) (\(report.backbone), \(seconds)): \(errors); \(notes)")
            XCTAssert(report.passed, "\(report.fixture) failures: \(report.failures.map { "\($0.name) \($0.relativeError)" })")
        }
    }
}
