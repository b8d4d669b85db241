import Foundation
import TestSupport
import Volumes
import XCTest

/// Issue 20, probes 1 and 2 at the reader and metric level: decoding is bounded by the memory a caller
/// can afford, grids are compared from headers before any voxel is decoded, and a negative label is
/// refused by the metrics. (The 10^9-voxel file under `ulimit -v` is in HarnessTests.)
final class DecodedSizeTests: XCTestCase {
    private func labelVolume(_ shape: [Int], negativeAt: Int? = nil) throws -> Volume {
        var voxels = (0..<shape.reduce(1, *)).map { Float($0 % 5 == 0 ? 1 : 0) }
        if let n = negativeAt { voxels[n] = -1 }
        return try Volume(shape: shape, voxels: voxels, spacing: [1, 1, 1])
    }

    func testReadRefusesAVolumeLargerThanItsMemoryLimitBeforeAllocating() throws {
        let folder = try TemporaryFolder()
        let url = folder.file("mask.nii.gz")
        try NIfTI.write(try labelVolume([16, 16, 16]), to: url, datatype: .uint8)
        let header = try NIfTI.readHeader(path: url.path)
        XCTAssertEqual(header.shape, [16, 16, 16])
        XCTAssertEqual(header.decodedBytes, 4096 * 4 + 4096, "Float32 voxels plus the uint8 bytes decoded from")
        let error = assertVolumeError(try NIfTI.read(path: url.path, memoryLimit: header.decodedBytes - 1), names: "mask.nii.gz") {
            if case .tooLarge = $0 { return true } else { return false }
        }
        XCTAssertTrue(error?.description.contains("4096 voxels") ?? false, "\(String(describing: error))")
        XCTAssertEqual(try NIfTI.read(path: url.path, memoryLimit: header.decodedBytes).voxelCount, 4096)
        XCTAssertGreaterThan(MemoryBudget.affordableBytes(), 1 << 20)
    }

    func testEvaluateComparesHeadersBeforeDecodingAndBoundsBothVolumes() throws {
        let folder = try TemporaryFolder()
        let prediction = folder.file("pred.nii.gz"), reference = folder.file("ref.nii.gz")
        try NIfTI.write(try labelVolume([8, 8, 8]), to: prediction, datatype: .uint8)
        try NIfTI.write(try labelVolume([9, 8, 8]), to: reference, datatype: .uint8)
        // Damage the reference's voxel data: decoding it would fail, so a grid error proves nothing was decoded.
        var bytes = try Data(contentsOf: reference)
        bytes.removeLast(12)
        try bytes.write(to: reference)
        XCTAssertThrowsError(try evaluateSegmentation(predictionPath: prediction.path, referencePath: reference.path)) { error in
            guard case MetricsError.gridMismatch(_, _, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("[8, 8, 8] vs [9, 8, 8]"), reason)
        }
        // Same grid, but more than the limit for the pair: refused naming the reference.
        try NIfTI.write(try labelVolume([8, 8, 8]), to: reference, datatype: .uint8)
        assertVolumeError(try evaluateSegmentation(predictionPath: prediction.path, referencePath: reference.path,
                                                   memoryLimit: 512 * 36), names: "ref.nii.gz") {
            if case .tooLarge = $0 { return true } else { return false }
        }
        let metrics = try evaluateSegmentation(predictionPath: prediction.path, referencePath: reference.path)
        XCTAssertEqual(metrics.all[.dice] ?? 0, 1, accuracy: 1e-12)
    }

    func testNegativeLabelsAreRefusedByTheMetrics() throws {
        let folder = try TemporaryFolder()
        let good = folder.file("good.nii"), bad = folder.file("bad.nii")
        try NIfTI.write(try labelVolume([4, 4, 4]), to: good, datatype: .int16)
        try NIfTI.write(try labelVolume([4, 4, 4], negativeAt: 6), to: bad, datatype: .int16)
        for (pred, ref) in [(bad, good), (good, bad)] {
            let error = assertVolumeError(try evaluateSegmentation(predictionPath: pred.path, referencePath: ref.path),
                                          names: "bad.nii") {
                if case .negativeLabel(_, -1, [2, 1, 0]) = $0 { return true } else { return false }
            }
            XCTAssertTrue(error?.description.contains("0 (background) or more") ?? false)
        }
        let map: [Int32] = [0, 1, -3, 0, 0, 0, 0, 0]
        XCTAssertThrowsError(try evaluateSegmentation(prediction: map, reference: map.map { max($0, 0) }, shape: [2, 2, 2],
                                                      spacing: [1, 1, 1])) { error in
            XCTAssertEqual(error as? MetricsError, .negativeLabel(what: "prediction", value: -3, voxel: [0, 1, 0]))
        }
    }
}
