import Foundation
import TestSupport
import XCTest
import Volumes

/// Write, read back, compare: voxels, spacing, affine, codes, datatypes; plus files written by hand
/// in formats our writer does not produce (NIfTI-2, ANALYZE pairs, big-endian).
final class RoundTripTests: XCTestCase {
    /// A rotated, anisotropic grid: i runs towards −y, j towards +x, k towards +z ("PRS").
    let rotated = Affine(rows: [[0, 1.2, 0, -30], [-0.8, 0, 0, 12.5], [0, 0, 2.5, 7], [0, 0, 0, 1]])!

    private func sampleVolume(shape: [Int] = [5, 6, 7], values: (Int) -> Float) throws -> Volume {
        let count = shape.reduce(1, *)
        return try Volume(
            shape: shape, voxels: (0..<count).map(values), spacing: [0.8, 1.2, 2.5], affine: rotated)
    }

    private func assertSameGeometry(_ a: Volume, _ b: Volume, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        for (x, y) in zip(a.spacing, b.spacing) {
            XCTAssertEqual(x, y, accuracy: 1e-6 * x, "spacing", file: file, line: line)   // float32 pixdim
        }
        XCTAssertTrue(a.affine.isClose(to: b.affine, tolerance: 1e-4), "\(a.affine) vs \(b.affine)", file: file, line: line)
        XCTAssertEqual(a.geometry.qformCode, b.geometry.qformCode, file: file, line: line)
        XCTAssertEqual(a.geometry.sformCode, b.geometry.sformCode, file: file, line: line)
        XCTAssertEqual(a.orientation, b.orientation, file: file, line: line)
    }

    func testFloat32RoundTripNiiAndNiiGz() throws {
        let folder = try TemporaryFolder()
        let volume = try sampleVolume { Float($0) * 0.37 - 11 }
        for name in ["float.nii", "float.nii.gz"] {
            let url = folder.file(name)
            try NIfTI.write(volume, to: url)
            let back = try NIfTI.read(url)
            XCTAssertEqual(back.voxels, volume.voxels, name)
            assertSameGeometry(back, volume)
            XCTAssertEqual(back.source?.format, .nifti1)
            XCTAssertEqual(back.source?.datatype, .float32)
            XCTAssertEqual(back.orientation, "PRS")
            XCTAssertEqual(try Data(contentsOf: url).prefix(2) == Data([0x1f, 0x8b]), name.hasSuffix(".gz"))
        }
        XCTAssertEqual(Set(folder.contents), ["float.nii", "float.nii.gz"], "no temporary files left behind")
    }

    func testEveryDatatypeRoundTrips() throws {
        let folder = try TemporaryFolder()
        for datatype in NIfTIDatatype.allCases {
            let signed = ![.uint8, .uint16, .uint32, .uint64].contains(datatype)
            let volume = try sampleVolume { n in Float(n % 101) - (signed ? 50 : 0) }
            for suffix in [".nii", ".nii.gz"] {
                let url = folder.file("\(datatype)\(suffix)")
                try NIfTI.write(volume, to: url, datatype: datatype)
                let back = try NIfTI.read(url)
                XCTAssertEqual(back.source?.datatype, datatype)
                XCTAssertEqual(back.voxels, volume.voxels, "\(datatype)\(suffix)")
                assertSameGeometry(back, volume)
            }
        }
    }

    func testScaledInt16() throws {
        let folder = try TemporaryFolder()
        let scaling = Scaling(slope: 0.25, intercept: -100)
        let volume = try sampleVolume { n in Float(n) * 0.25 - 100 }   // exactly representable
        let url = folder.file("scaled.nii.gz")
        try NIfTI.write(volume, to: url, datatype: .int16, scaling: scaling)
        let back = try NIfTI.read(url)
        XCTAssertEqual(back.source?.datatype, .int16)
        XCTAssertEqual(back.source?.scaleSlope, 0.25)
        XCTAssertEqual(back.source?.scaleIntercept, -100)
        XCTAssertEqual(back.voxels, volume.voxels)

        // Values between steps are rounded to the nearest stored step.
        let between = try sampleVolume { n in Float(n) * 0.25 - 100 + 0.1 }
        try NIfTI.write(between, to: url, datatype: .int16, scaling: scaling)
        let rounded = try NIfTI.read(url)
        for (a, b) in zip(rounded.voxels, between.voxels) { XCTAssertEqual(a, b, accuracy: 0.125 + 1e-4) }
    }

    func testFourDimensionalSeries() throws {
        let folder = try TemporaryFolder()
        let volume = try sampleVolume(shape: [3, 4, 5, 2]) { Float($0) }
        let url = folder.file("series.nii.gz")
        try NIfTI.write(volume, to: url)
        let back = try NIfTI.read(url)
        XCTAssertEqual(back.shape, [3, 4, 5, 2])
        XCTAssertEqual(back.timepoints, 2)
        XCTAssertEqual(back[2, 3, 4, 1], volume.voxels.last)
        XCTAssertEqual(back.voxels, volume.voxels)
    }

    func testPredictionKeepsReferenceGeometry() throws {
        let pairs = try SharedData.msdPairs()
        let folder = try TemporaryFolder()
        let reference = try NIfTI.read(pairs[0].image)
        let label = try NIfTI.read(pairs[0].label)
        let prediction = try label.integerLabels().map { Float($0) }

        let url = folder.file("prediction.nii.gz")
        try NIfTI.writePrediction(prediction, like: reference, to: url)
        let back = try NIfTI.read(url)
        XCTAssertEqual(back.source?.datatype, .uint8)
        XCTAssertEqual(back.voxels, label.voxels)
        assertSameGeometry(back, reference)
        XCTAssertEqual(back.geometry.qform.values, reference.geometry.qform.values)
        XCTAssertEqual(back.geometry.sform.values, reference.geometry.sform.values)
        XCTAssertEqual(back.geometry.quaternion, reference.geometry.quaternion)
        XCTAssertEqual(back.geometry.spatialUnits, reference.geometry.spatialUnits)
        try checkSameGrid(image: reference, label: back)

        // The UInt8 overload writes the same file content.
        let url8 = folder.file("prediction8.nii")
        try NIfTI.writePrediction(prediction.map { UInt8($0) }, like: reference, to: url8)
        XCTAssertEqual(try NIfTI.read(url8).voxels, label.voxels)

        // Float32 probabilities on the same grid.
        let probabilities = folder.file("probabilities.nii.gz")
        try NIfTI.writePrediction(prediction.map { $0 / 2 }, like: reference, to: probabilities, datatype: .float32)
        XCTAssertEqual(try NIfTI.read(probabilities).voxels, prediction.map { $0 / 2 })
    }

    func testOverwriteIsAtomicAndFailuresLeaveNothing() throws {
        let folder = try TemporaryFolder()
        let url = folder.file("labels.nii.gz")
        try NIfTI.write(try sampleVolume { Float($0 % 3) }, to: url, datatype: .uint8)
        try NIfTI.write(try sampleVolume { Float($0 % 2) }, to: url, datatype: .uint8)
        XCTAssertEqual(try NIfTI.read(url).voxels, try sampleVolume { Float($0 % 2) }.voxels)

        // 300 does not fit uint8: the old file stays, no temporary file remains.
        let bad = try sampleVolume { $0 == 17 ? 300 : 0 }
        assertVolumeError(try NIfTI.write(bad, to: url, datatype: .uint8), names: "labels.nii.gz") {
            if case .writeFailed = $0 { return true } else { return false }
        }
        XCTAssertEqual(try NIfTI.read(url).voxels, try sampleVolume { Float($0 % 2) }.voxels)
        assertVolumeError(try NIfTI.write(bad, to: folder.file("new.nii"), datatype: .uint8), names: "new.nii") {
            if case .writeFailed = $0 { return true } else { return false }
        }
        XCTAssertEqual(folder.contents, ["labels.nii.gz"])

        assertVolumeError(try NIfTI.write(bad, to: folder.file("x.mha")), names: "x.mha") {
            if case .writeFailed = $0 { return true } else { return false }
        }
        assertVolumeError(try NIfTI.write(bad, to: folder.file("no/such/dir/x.nii")), names: "x.nii") {
            if case .writeFailed = $0 { return true } else { return false }
        }
    }

    func testNIfTI2File() throws {
        let folder = try TemporaryFolder()
        var header = HandHeader()
        header.kind = .nifti2
        header.dims = [3, 4, 3, 2, 1, 1, 1, 1]
        header.datatype = 64
        header.bitpix = 64
        header.pixdim = [1, 0.5, 0.75, 3, 1, 1, 1, 1]
        header.voxOffset = 544
        header.sformCode = 2
        header.srows = [[-0.5, 0, 0, 10], [0, -0.75, 0, 20], [0, 0, 3, -5]]
        let values = (0..<24).map { Double($0) * 1.5 - 7 }
        let url = folder.file("two.nii")
        try write(header.singleFile(data: header.encode(values)), to: url)

        let volume = try NIfTI.read(url)
        XCTAssertEqual(volume.source?.format, .nifti2)
        XCTAssertEqual(volume.source?.datatype, .float64)
        XCTAssertEqual(volume.shape, [4, 3, 2])
        XCTAssertEqual(volume.voxels, values.map { Float($0) })
        XCTAssertEqual(volume.spacing, [0.5, 0.75, 3])
        XCTAssertEqual(volume.geometry.sformCode, 2)
        XCTAssertEqual(volume.affine.rows, [[-0.5, 0, 0, 10], [0, -0.75, 0, 20], [0, 0, 3, -5], [0, 0, 0, 1]])
        XCTAssertEqual(volume.orientation, "LPS")
        XCTAssertEqual(volume[3, 2, 1], Float(values[23]))

        // Big-endian NIfTI-2 reads the same.
        header.bigEndian = true
        let bigURL = folder.file("two-big.nii")
        try write(header.singleFile(data: header.encode(values)), to: bigURL)
        XCTAssertEqual(try NIfTI.read(bigURL).voxels, volume.voxels)
    }

    func testAnalyzePairBothEndians() throws {
        let folder = try TemporaryFolder()
        let values: [Int16] = (0..<30).map { Int16($0 * 100 - 1500) }
        for bigEndian in [false, true] {
            var header = HandHeader()
            header.kind = .analyze
            header.dims = [3, 5, 3, 2, 1, 1, 1, 1]
            header.datatype = 4
            header.bitpix = 16
            header.pixdim = [0, 1.5, 2, 2.5, 0, 0, 0, 0]
            header.voxOffset = 0
            header.bigEndian = bigEndian
            let base = "analyze-\(bigEndian ? "be" : "le")"
            try write(Data(header.bytes()), to: folder.file(base + ".hdr"))
            try write(Data(header.encode(values)), to: folder.file(base + ".img"))

            for given in [base + ".hdr", base + ".img"] {
                let volume = try NIfTI.read(folder.file(given))
                XCTAssertEqual(volume.source?.format, .analyze75, given)
                XCTAssertEqual(volume.source?.datatype, .int16)
                XCTAssertEqual(volume.shape, [5, 3, 2])
                XCTAssertEqual(volume.voxels, values.map { Float($0) }, given)
                XCTAssertEqual(volume.spacing, [1.5, 2, 2.5])
                XCTAssertEqual(volume.geometry.qformCode, 0)
                XCTAssertEqual(volume.geometry.sformCode, 0)
                XCTAssertEqual(volume.affine, .diagonal([1.5, 2, 2.5]))
                XCTAssertEqual(volume.orientation, "RAS")
            }
        }
        // A NIfTI-1 pair ("ni1") with scaling, given by its .img.
        var header = HandHeader()
        header.kind = .nifti1Pair
        header.dims = [3, 5, 3, 2, 1, 1, 1, 1]
        header.datatype = 512
        header.bitpix = 16
        header.voxOffset = 0
        header.sclSlope = 2
        header.sclInter = 1
        try write(Data(header.bytes()), to: folder.file("pair.hdr"))
        try write(Data(header.encode(values.map { UInt16(bitPattern: $0 + 1500) })), to: folder.file("pair.img"))
        let pair = try NIfTI.read(folder.file("pair.img"))
        XCTAssertEqual(pair.source?.format, .nifti1Pair)
        XCTAssertEqual(pair.voxels, values.map { Float(Int($0) + 1500) * 2 + 1 })
    }

    func testBigEndianNIfTI1AndNaNArePreserved() throws {
        // libnifti's own reader would turn NaN/Inf into 0; ours keeps them for requireFinite().
        let folder = try TemporaryFolder()
        var header = HandHeader()
        header.bigEndian = true
        header.qformCode = 1
        let values: [Float] = [1, -2, .nan, 4, .infinity, 6, 7, 8.5]
        let url = folder.file("big.nii")
        try write(header.singleFile(data: header.encode(values)), to: url)
        let volume = try NIfTI.read(url)
        XCTAssertEqual(volume.shape, [2, 2, 2])
        XCTAssertEqual(Array(volume.voxels[0..<2]), [1, -2])
        XCTAssertTrue(volume.voxels[2].isNaN)
        XCTAssertEqual(volume.voxels[4], .infinity)
        XCTAssertEqual(volume.voxels[7], 8.5)
    }
}
