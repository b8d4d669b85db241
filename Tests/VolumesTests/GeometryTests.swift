import Foundation
import TestSupport
import XCTest
import Volumes

/// Affine choice (sform, qform, diag), orientation codes as nibabel's aff2axcodes, voxel accessors.
final class GeometryTests: XCTestCase {
    private func affine(_ rows: [[Double]]) -> Affine { Affine(rows: rows)! }

    func testAxisCodesLikeNibabel() {
        XCTAssertEqual(Affine.identity.axisCodes, "RAS")
        XCTAssertEqual(Affine.diagonal([-1, -1, 1]).axisCodes, "LPS")
        XCTAssertEqual(Affine.diagonal([2, 3, 4]).axisCodes, "RAS")
        // i → y, j → z, k → x
        XCTAssertEqual(affine([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]).axisCodes, "ASR")
        // i → −z, j → −x, k → +y (a sagittal acquisition)
        XCTAssertEqual(affine([[0, -0.9, 0, 0], [0, 0, 1.1, 0], [-1.3, 0, 0, 0]]).axisCodes, "ILA")
        // 30° oblique in-plane: still nearest to RAS
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        XCTAssertEqual(affine([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0]]).axisCodes, "RAS")
        // 60°: i is now closer to +y, j to −x
        XCTAssertEqual(affine([[s, -c, 0, 0], [c, s, 0, 0], [0, 0, 1, 0]]).axisCodes, "ALS")
        // a degenerate (zero) column has no direction
        XCTAssertEqual(affine([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]).axisCodes, "RA?")
    }

    func testAffineChoiceSformThenQformThenSpacing() throws {
        let folder = try TemporaryFolder()
        var header = HandHeader()
        header.pixdim = [-1, 2, 3, 4, 1, 1, 1, 1]   // qfac −1
        header.quatern = [0, 0, 1, 10, 20, 30]      // 180° about z
        header.srows = [[0, 2, 0, -1], [3, 0, 0, -2], [0, 0, 4, -3]]
        let data = header.encode([Float](repeating: 0, count: 8))

        func read(qform: Int, sform: Int) throws -> Volume {
            var h = header
            h.qformCode = qform
            h.sformCode = sform
            let url = folder.file("q\(qform)s\(sform).nii")
            try write(h.singleFile(data: data), to: url)
            return try NIfTI.read(url)
        }

        let both = try read(qform: 1, sform: 2)
        XCTAssertEqual(both.affine.rows, [[0, 2, 0, -1], [3, 0, 0, -2], [0, 0, 4, -3], [0, 0, 0, 1]])
        XCTAssertEqual(both.orientation, "ARS")

        let qformOnly = try read(qform: 1, sform: 0)
        // R = diag(−1, −1, 1), qfac −1 flips k: columns (−2, 0, 0), (0, −3, 0), (0, 0, −4).
        XCTAssertTrue(qformOnly.affine.isClose(
            to: affine([[-2, 0, 0, 10], [0, -3, 0, 20], [0, 0, -4, 30]]), tolerance: 1e-6), "\(qformOnly.affine)")
        XCTAssertEqual(qformOnly.orientation, "LPI")
        XCTAssertEqual(qformOnly.geometry.quaternion?.qfac, -1)

        let neither = try read(qform: 0, sform: 0)
        XCTAssertEqual(neither.affine, .diagonal([2, 3, 4]))
        XCTAssertEqual(neither.spacing, [2, 3, 4])

        // Writing keeps both transforms and codes.
        let copy = folder.file("copy.nii.gz")
        try NIfTI.write(both, to: copy)
        let back = try NIfTI.read(copy)
        XCTAssertEqual(back.geometry.qformCode, 1)
        XCTAssertEqual(back.geometry.sformCode, 2)
        XCTAssertTrue(back.geometry.qform.isClose(to: both.geometry.qform, tolerance: 1e-6))
        XCTAssertTrue(back.geometry.sform.isClose(to: both.geometry.sform, tolerance: 1e-6))
    }

    func testQformDerivedForInMemoryVolumes() throws {
        let folder = try TemporaryFolder()
        let matrix = affine([[0, 1.2, 0, -30], [-0.8, 0, 0, 12.5], [0, 0, -2.5, 7]])
        let volume = try Volume(shape: [2, 3, 4], voxels: [Float](repeating: 1, count: 24), spacing: [0.8, 1.2, 2.5],
                                affine: matrix)
        let url = folder.file("derived.nii")
        try NIfTI.write(volume, to: url)
        let back = try NIfTI.read(url)
        XCTAssertTrue(back.geometry.qform.isClose(to: matrix, tolerance: 1e-5), "\(back.geometry.qform)")
        XCTAssertTrue(back.geometry.sform.isClose(to: matrix, tolerance: 1e-5))
        XCTAssertEqual(back.orientation, "PRI")
    }

    func testAccessorsAndUnits() throws {
        var volume = try Volume(shape: [3, 4, 5], voxels: (0..<60).map(Float.init), spacing: [0.5, 2, 3])
        XCTAssertEqual(volume.voxelCount, 60)
        XCTAssertEqual(volume.index(2, 3, 4), 59)
        XCTAssertEqual(volume.index(1, 2, 3), 1 + 3 * (2 + 4 * 3))
        XCTAssertEqual(volume[1, 2, 3], Float(1 + 3 * (2 + 4 * 3)))
        XCTAssertEqual(volume.coordinates(ofIndex: 59), [2, 3, 4])
        XCTAssertEqual(volume.voxelVolumeMM3, 3)
        volume.geometry.spatialUnits = Geometry.UnitCode.meter
        XCTAssertEqual(volume.voxelVolumeMM3, 3e9, accuracy: 1)
        volume.geometry.spatialUnits = Geometry.UnitCode.micron
        XCTAssertEqual(volume.voxelVolumeMM3, 3e-9, accuracy: 1e-15)
        XCTAssertEqual(volume.timepoints, 1)
        XCTAssertEqual(volume.spatialShape, [3, 4, 5])
        XCTAssertEqual(volume.affine.apply(1, 1, 1), SIMD3(0.5, 2, 3))
    }
}

extension GeometryTests {
    func testEditedQformIsWrittenNotTheStaleQuaternion() throws {
        let folder = try TemporaryFolder()
        var volume = try NIfTI.read(try SharedData.msdPairs()[0].image)
        XCTAssertNotNil(volume.geometry.quaternion)
        let flipped = Affine(rows: [[-1, 0, 0, 40], [0, 1, 0, 1], [0, 0, 1, 1]])!
        volume.geometry.qform = flipped
        volume.geometry.sformCode = 0
        let url = folder.file("edited.nii.gz")
        try NIfTI.write(volume, to: url)
        let back = try NIfTI.read(url)
        XCTAssertTrue(back.affine.isClose(to: flipped, tolerance: 1e-6), "\(back.affine)")
        XCTAssertEqual(back.orientation, "LAS")
    }
}
