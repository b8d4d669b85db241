import Foundation
import XCTest
import Experiments
import TestSupport
import Volumes

extension TemporaryFolder {
    /// Creates the parent folders of `name` and returns its URL.
    func prepare(_ name: String) throws -> URL {
        let target = file(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        return target
    }

    func writeText(_ text: String, to name: String) throws {
        try text.write(to: try prepare(name), atomically: true, encoding: .utf8)
    }
}

/// Small volumes for layout tests: an image with a bright box and its label.
enum TinyCase {
    static let shape = [6, 5, 4]

    static func image(shape: [Int] = shape, spacing: [Double] = [1, 1, 1], affine: Affine? = nil, seed: Float = 0) throws -> Volume {
        let count = shape.reduce(1, *)
        let voxels = (0..<count).map { n -> Float in 10 + Float(n % 7) + seed }
        return try Volume(shape: shape, voxels: voxels, spacing: spacing, affine: affine)
    }

    /// Label 1 in the first voxels, 2 in a few more, 0 elsewhere.
    static func label(shape: [Int] = shape, spacing: [Double] = [1, 1, 1], affine: Affine? = nil) throws -> Volume {
        let count = shape.reduce(1, *)
        let voxels = (0..<count).map { n -> Float in n < 10 ? 1 : (n < 14 ? 2 : 0) }
        return try Volume(shape: shape, voxels: voxels, spacing: spacing, affine: affine)
    }

    /// Writes an image/label pair at the given relative paths.
    static func write(in folder: TemporaryFolder, image: String, label: String?, labelShape: [Int] = shape,
                      labelSpacing: [Double] = [1, 1, 1]) throws {
        try NIfTI.write(try Self.image(), to: try folder.prepare(image))
        if let label {
            try NIfTI.write(try Self.label(shape: labelShape, spacing: labelSpacing), to: try folder.prepare(label), datatype: .uint8)
        }
    }

    /// Writes an ANALYZE 7.5 pair (`name.hdr` + `name.img`, int16, little-endian, no orientation).
    static func writeAnalyze(_ volume: Volume, in folder: TemporaryFolder, name: String) throws {
        var header = [UInt8](repeating: 0, count: 348)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func putFloat(_ value: Float, at offset: Int) { put(value.bitPattern, at: offset) }
        put(Int32(348), at: 0)
        header[38] = UInt8(ascii: "r")
        let dims = [3] + volume.shape + [1, 1, 1, 1]
        for n in 0..<8 { put(Int16(dims[n]), at: 40 + 2 * n) }
        put(Int16(4), at: 70)     // int16
        put(Int16(16), at: 72)
        let pixdim: [Float] = [1] + volume.spacing.map(Float.init) + [1, 1, 1, 1]
        for n in 0..<8 { putFloat(pixdim[n], at: 76 + 4 * n) }
        putFloat(0, at: 108)
        let data = volume.voxels.flatMap { value -> [UInt8] in
            withUnsafeBytes(of: Int16(value).littleEndian) { Array($0) }
        }
        try Data(header).write(to: try folder.prepare(name + ".hdr"))
        try Data(data).write(to: try folder.prepare(name + ".img"))
    }
}

/// Asserts that `body` throws a `DataError` accepted by `match` whose description contains each of
/// `mentions`; returns it.
@discardableResult
func assertDataError<T>(
    _ body: @autoclosure () throws -> T, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line,
    _ match: (DataError) -> Bool = { _ in true }
) -> DataError? {
    do {
        _ = try body()
        XCTFail("expected a DataError, got success", file: file, line: line)
        return nil
    } catch let error as DataError {
        XCTAssertTrue(match(error), "unexpected error case: \(error)", file: file, line: line)
        for text in mentions {
            XCTAssertTrue(error.description.contains(text), "\(error) does not mention \(text)", file: file, line: line)
        }
        XCTAssertFalse(error.description.contains("\n"), "not one line: \(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a DataError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}

extension DatasetScan {
    func skippedReason(_ path: String) -> String? { skipped.first { $0.path == path }?.reason }
}
