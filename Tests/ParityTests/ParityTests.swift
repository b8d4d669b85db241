import Backbones
import Foundation
import Parity
import Tensors
import TestSupport
import XCTest

final class ParityTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        try SharedData.fixture("parity/\(name)")
    }

    private func check(_ name: String) throws {
        let report = try runParity(fixture: try fixture(name))
        print("parity \(name): logits \(report.logits.relativeError), grad_input \(report.gradInput.relativeError), "
              + "worst gradient \(report.worstGradient.name) \(report.worstGradient.relativeError), \(report.gradientsCompared) gradients, module scale: \(report.moduleScaleGradients), "
              + "branches flipped: \(report.kinkBranchesFlipped), \(report.passes) passes")
        XCTAssert(report.passed, "failures: \(report.failures.map { "\($0.name) \($0.relativeError)" })")
    }

    /// A path that is a file, or a folder without the fixture's files, is refused with what is missing.
    func testFolderThatIsNoFixtureIsNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parity-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try runParity(fixture: folder)) { error in
            XCTAssert("\(error)".contains("has no weights.safetensors, io.safetensors, expected.safetensors"), "\(error)")
        }
        XCTAssertThrowsError(try runParity(fixture: folder.appendingPathComponent("config.json"))) { error in
            XCTAssert("\(error)".contains("is not a folder"), "\(error)")
        }
    }

    /// A fixture whose io or expected tensors have the right byte count but the wrong shape is refused
    /// by name before any kernel sees it (a reshaped grad_output used to trap in the broadcast).
    func testMisshapenFixtureTensorsNameTheirFile() throws {
        let source = try fixture("unetr-tiny")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parity-shapes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(file: String, tensor: String, shape: [Int])] = [
            ("io.safetensors", "grad_output", [8, 8192]), ("io.safetensors", "input", [4, 8, 32, 32]),
            ("expected.safetensors", "logits", [2, 32, 32, 32]),
            ("expected.safetensors", "grad.vit.blocks.0.norm1.weight", [6, 8]),
        ]
        for (file, tensor, shape) in cases {
            for name in ["config.json", "weights.safetensors", "io.safetensors", "expected.safetensors"] {
                let link = folder.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: link)
                try FileManager.default.createSymbolicLink(at: link, withDestinationURL: source.appendingPathComponent(name))
            }
            var archive = try SafetensorsArchive.read(contentsOf: source.appendingPathComponent(file))
            let index = try XCTUnwrap(archive.entries.firstIndex { $0.name == tensor })
            archive.entries[index].tensor = archive.entries[index].tensor.reshaped(shape)
            try FileManager.default.removeItem(at: folder.appendingPathComponent(file))
            try archive.write(to: folder.appendingPathComponent(file))
            XCTAssertThrowsError(try runParity(fixture: folder), "\(file) \(tensor) \(shape)") { error in
                XCTAssert("\(error)".contains(file), "\(error)")
            }
        }
    }

    func testUNETRTiny() throws { try check("unetr-tiny") }
    func testSwinUNETRTiny() throws { try check("swinunetr-tiny") }
}
