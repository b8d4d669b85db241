import Foundation
import TestSupport
import XCTest
import Volumes

/// Every bad input gives one line that names the file; nothing crashes, nothing hangs, nothing
/// allocates what the header merely claims.
final class BadFileTests: XCTestCase {
    private func isCase(_ expected: String) -> (VolumeError) -> Bool {
        { Mirror(reflecting: $0).children.first?.label == expected }
    }

    /// A copy of a real MSD image, cut to `keep(size)` bytes.
    private func cutCopy(_ folder: TemporaryFolder, name: String, keep: (Int) -> Int) throws -> URL {
        let original = try Data(contentsOf: try SharedData.msdPairs()[0].image)
        let url = folder.file(name)
        try write(original.prefix(keep(original.count)), to: url)
        return url
    }

    func testTruncatedGzipHalf() throws {
        let folder = try TemporaryFolder()
        let url = try cutCopy(folder, name: "half.nii.gz") { $0 / 2 }
        let error = assertVolumeError(try NIfTI.read(url), names: "half.nii.gz", isCase("truncated"))
        print(error.map { "\($0)" } ?? "")
    }

    func testTruncatedGzipTrailerOnly() throws {
        // All voxel bytes are there, only the CRC/length trailer is cut: still a damaged download.
        let folder = try TemporaryFolder()
        let url = try cutCopy(folder, name: "trailer.nii.gz") { $0 - 4 }
        assertVolumeError(try NIfTI.read(url), names: "trailer.nii.gz", isCase("truncated"))
    }

    func testTruncatedInsideHeader() throws {
        let folder = try TemporaryFolder()
        let url = try cutCopy(folder, name: "tiny.nii.gz") { _ in 60 }
        assertVolumeError(try NIfTI.read(url), names: "tiny.nii.gz") {
            if case .truncated = $0 { return true }
            if case .notNIfTI = $0 { return true }
            return false
        }
    }

    func testDamagedGzipData() throws {
        let folder = try TemporaryFolder()
        var bytes = try Data(contentsOf: try SharedData.msdPairs()[0].image)
        let middle = bytes.count / 2
        for n in middle..<middle + 64 { bytes[n] ^= 0x5A }
        let url = folder.file("damaged.nii.gz")
        try write(bytes, to: url)
        assertVolumeError(try NIfTI.read(url), names: "damaged.nii.gz") {
            if case .corrupt = $0 { return true }
            if case .truncated = $0 { return true }
            return false
        }
    }

    func testTruncatedPlainFile() throws {
        let folder = try TemporaryFolder()
        let header = HandHeader()
        let url = folder.file("short.nii")
        try write(header.singleFile(data: header.encode([Float](repeating: 1, count: 5))), to: url)   // needs 8
        assertVolumeError(try NIfTI.read(url), names: "short.nii", isCase("truncated"))
    }

    func testRandomBytes() throws {
        let folder = try TemporaryFolder()
        var generator = SystemRandomNumberGenerator()
        let url = folder.file("random.nii.gz")
        try write(Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }), to: url)
        assertVolumeError(try NIfTI.read(url), names: "random.nii.gz", isCase("notNIfTI"))

        let empty = folder.file("empty.nii")
        try write(Data(), to: empty)
        assertVolumeError(try NIfTI.read(empty), names: "empty.nii", isCase("notNIfTI"))
    }

    func testImpossibleDimensions() throws {
        let folder = try TemporaryFolder()
        let cases: [(String, [Int])] = [
            ("zero.nii", [3, 0, 2, 2, 1, 1, 1, 1]),
            ("negative.nii", [3, 2, -4, 2, 1, 1, 1, 1]),
            ("trillion.nii", [3, 10000, 10000, 10000, 1, 1, 1, 1]),
            ("rank9.nii", [9, 2, 2, 2, 1, 1, 1, 1]),
            ("rank0.nii", [0, 2, 2, 2, 1, 1, 1, 1]),   // dim[0] = 0 picks the byte order, then is no rank (fuzz)
            ("fivedim.nii", [5, 2, 2, 2, 1, 3, 1, 1]),
        ]
        for (name, dims) in cases {
            var header = HandHeader()
            header.dims = dims
            let url = folder.file(name)
            try write(header.singleFile(data: header.encode([Float](repeating: 0, count: 8))), to: url)
            let error = assertVolumeError(try NIfTI.read(url), names: name, isCase("badDimensions"))
            if name == "trillion.nii" { print(error.map { "\($0)" } ?? "") }
        }
    }

    func testClaimsMoreDataThanTheFileCanHold() throws {
        // 10^9 voxels is below the 2^31 cap, but neither a 400-byte file nor a small gzip file can hold them:
        // refused before any allocation.
        let folder = try TemporaryFolder()
        var header = HandHeader()
        header.dims = [3, 1000, 1000, 1000, 1, 1, 1, 1]
        header.datatype = 2
        header.bitpix = 8
        let url = folder.file("billion.nii")
        try write(header.singleFile(data: [1, 2, 3]), to: url)
        assertVolumeError(try NIfTI.read(url), names: "billion.nii", isCase("truncated"))

        // The same claim inside a real gzip stream: write a tiny valid file, then patch the dims.
        let small = try Volume(shape: [2, 2, 2], voxels: [Float](repeating: 1, count: 8), spacing: [1, 1, 1])
        let gz = folder.file("billion.nii.gz")
        try NIfTI.write(small, to: gz, datatype: .uint8)
        let plain = folder.file("patched.nii")
        try NIfTI.write(small, to: plain, datatype: .uint8)
        var bytes = try Data(contentsOf: plain)
        for (n, size) in [1000, 1000, 1000].enumerated() {
            withUnsafeBytes(of: Int16(size).littleEndian) { bytes.replaceSubrange(42 + 2 * n..<44 + 2 * n, with: $0) }
        }
        try write(bytes, to: plain)
        assertVolumeError(try NIfTI.read(plain), names: "patched.nii", isCase("truncated"))
        XCTAssertEqual(try NIfTI.read(gz).voxels, small.voxels)
    }

    func testMissingFiles() throws {
        let folder = try TemporaryFolder()
        assertVolumeError(try NIfTI.read(folder.file("absent.nii.gz")), names: "absent.nii.gz", isCase("missingFile"))
        // An ANALYZE image without its header names the header it looked for.
        try write(Data([0, 1, 2, 3]), to: folder.file("lonely.img"))
        assertVolumeError(try NIfTI.read(folder.file("lonely.img")), names: "lonely.hdr", isCase("missingFile"))
        // A header without its image.
        var header = HandHeader()
        header.kind = .analyze
        header.voxOffset = 0
        try write(Data(header.bytes()), to: folder.file("orphan.hdr"))
        assertVolumeError(try NIfTI.read(folder.file("orphan.hdr")), names: "orphan.img", isCase("missingFile"))
        // A directory is not a file.
        try FileManager.default.createDirectory(at: folder.file("dir.nii"), withIntermediateDirectories: false)
        assertVolumeError(try NIfTI.read(folder.file("dir.nii")), names: "dir.nii", isCase("unreadable"))
    }

    func testUnsupportedDatatypes() throws {
        let folder = try TemporaryFolder()
        for (code, bits, name) in [(32, 64, "complex64"), (128, 24, "rgb24"), (1792, 128, "complex128"), (1, 1, "binary")] {
            var header = HandHeader()
            header.datatype = code
            header.bitpix = bits
            let url = folder.file("\(name).nii")
            try write(header.singleFile(data: [UInt8](repeating: 0, count: 8 * 16)), to: url)
            let error = assertVolumeError(try NIfTI.read(url), names: "\(name).nii", isCase("unsupportedDatatype"))
            XCTAssertTrue(error?.description.contains(name) ?? false, "\(String(describing: error))")
        }
    }

    func testGzipContentUnderPlainName() throws {
        let folder = try TemporaryFolder()
        let original = try SharedData.msdPairs()[0].image
        let url = folder.file("compressed.nii")
        try FileManager.default.copyItem(at: original, to: url)
        assertVolumeError(try NIfTI.read(url), names: "compressed.nii", isCase("invalidHeader"))
    }

    func testNaNVoxelsThroughRequireFinite() throws {
        let folder = try TemporaryFolder()
        let header = HandHeader()
        let url = folder.file("nan.nii")
        try write(header.singleFile(data: header.encode([0, 1, 2, .nan, 4, -.infinity, 6, .nan] as [Float])), to: url)
        let volume = try NIfTI.read(url)   // reading keeps them; the check is separate
        let error = assertVolumeError(try volume.requireFinite(), names: "nan.nii", isCase("nonFinite"))
        XCTAssertEqual(error, .nonFinite(path: url.path, count: 3, firstIndex: [1, 1, 0]))

        let memory = try Volume(shape: [2, 1, 1], voxels: [1, .nan], spacing: [1, 1, 1])
        assertVolumeError(try memory.requireFinite(), names: "in-memory volume", isCase("nonFinite"))
        XCTAssertNoThrow(try Volume(shape: [2, 1, 1], voxels: [1, 2], spacing: [1, 1, 1]).requireFinite())
    }

    func testLabelImageMismatch() throws {
        let folder = try TemporaryFolder()
        let pair = try SharedData.msdPairs()[0]
        let image = try NIfTI.read(pair.image)
        let label = try NIfTI.read(pair.label)
        XCTAssertNoThrow(try checkSameGrid(image: image, label: label))

        // A label of another case (different grid).
        let other = try SharedData.msdPairs().lazy.map { try NIfTI.read($0.label) }.first { $0.shape != image.shape }!
        let error = assertVolumeError(
            try checkSameGrid(image: image, label: other), names: other.source!.path, isCase("gridMismatch"))
        XCTAssertTrue(error?.description.contains(image.source!.path) ?? false)

        // Same grid, voxel size off by 2 %: written and read back so both names are files.
        var stretched = label
        stretched.geometry.spacing[2] *= 1.02
        let url = folder.file("stretched-label.nii.gz")
        try NIfTI.write(stretched, to: url, datatype: .uint8)
        let error2 = assertVolumeError(
            try checkSameGrid(image: image, label: NIfTI.read(url)), names: "stretched-label.nii.gz",
            isCase("spacingMismatch"))
        XCTAssertTrue(error2?.description.contains(image.source!.path) ?? false)

        // Float32 rounding of pixdim is within tolerance.
        var rounded = label
        rounded.geometry.spacing[0] = Double(Float(1.0000001))
        XCTAssertNoThrow(try checkSameGrid(image: image, label: rounded))
    }

    func testNonIntegerLabels() throws {
        let volume = try Volume(shape: [2, 2, 1], voxels: [0, 1, 2.5, 1], spacing: [1, 1, 1])
        let error = assertVolumeError(try volume.integerLabels(), names: "in-memory volume", isCase("nonIntegerLabel"))
        XCTAssertEqual(error, .nonIntegerLabel(path: "in-memory volume", value: 2.5, index: [0, 1, 0]))
        assertVolumeError(try volume.labelValues(), names: "in-memory volume", isCase("nonIntegerLabel"))
        let good = try Volume(shape: [2, 2, 1], voxels: [0, 2, 300, -1], spacing: [1, 1, 1])
        XCTAssertEqual(try good.labelValues(), [-1, 0, 2, 300])
        XCTAssertEqual(try good.integerLabels(), [0, 2, 300, -1])
    }

    func testInconsistentInMemoryVolumes() {
        assertVolumeError(try Volume(shape: [2, 2, 2], voxels: [1], spacing: [1, 1, 1]), names: "in-memory volume",
                          isCase("invalidVolume"))
        assertVolumeError(try Volume(shape: [2, 0, 2], voxels: [], spacing: [1, 1, 1]), names: "in-memory volume",
                          isCase("invalidVolume"))
        assertVolumeError(try Volume(shape: [1, 1, 1], voxels: [1], spacing: [1, 0, 1]), names: "in-memory volume",
                          isCase("invalidVolume"))
    }
}
