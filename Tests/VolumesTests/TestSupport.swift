import Foundation
import XCTest
import TestSupport
import Volumes

extension SharedData {
    struct Pair: Decodable {
        var image: String
        var label: String
    }

    struct Dataset: Decodable {
        var training: [Pair]
    }

    /// (image, label) URLs listed in dataset.json.
    static func msdPairs() throws -> [(image: URL, label: URL)] {
        let folder = try msdHippocampus()
        let json = try Data(contentsOf: folder.appendingPathComponent("dataset.json"))
        let dataset = try JSONDecoder().decode(Dataset.self, from: json)
        return dataset.training.map {
            (folder.appendingPathComponent($0.image).standardizedFileURL,
             folder.appendingPathComponent($0.label).standardizedFileURL)
        }
    }
}

/// Asserts that `body` throws a `VolumeError` accepted by `match`, whose one-line description names
/// `fileName`. Returns the error for further checks.
@discardableResult
func assertVolumeError<T>(
    _ body: @autoclosure () throws -> T, names fileName: String, file: StaticString = #filePath, line: UInt = #line,
    _ match: (VolumeError) -> Bool
) -> VolumeError? {
    do {
        _ = try body()
        XCTFail("expected a VolumeError naming \(fileName), got success", file: file, line: line)
        return nil
    } catch let error as VolumeError {
        XCTAssertTrue(match(error), "unexpected error case: \(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(fileName), "\(error) does not name \(fileName)", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "not one line: \(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a VolumeError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}

/// Builds NIfTI-1 / ANALYZE 7.5 (348 bytes) and NIfTI-2 (540 bytes) headers by hand, so tests can
/// produce files that libnifti would never write: big-endian, NIfTI-2, ANALYZE, broken ones.
struct HandHeader {
    enum Kind { case nifti1, nifti1Pair, analyze, nifti2 }

    var kind: Kind = .nifti1
    var dims: [Int] = [3, 2, 2, 2, 1, 1, 1, 1]
    var datatype: Int = 16
    var bitpix: Int = 32
    var pixdim: [Double] = [1, 1, 1, 1, 1, 1, 1, 1]
    var voxOffset: Double = 352
    var sclSlope: Double = 0
    var sclInter: Double = 0
    var qformCode: Int = 0
    var sformCode: Int = 0
    /// quatern_b, c, d, qoffset_x, y, z (qfac is the sign of pixdim[0]).
    var quatern: [Double] = [0, 0, 0, 0, 0, 0]
    var srows: [[Double]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    var xyztUnits: UInt8 = 2
    var bigEndian = false

    var size: Int { kind == .nifti2 ? 540 : 348 }

    func bytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let stored = bigEndian ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: stored) { out.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func putFloat(_ value: Double, at offset: Int) { put(Float(value).bitPattern, at: offset) }
        func putDouble(_ value: Double, at offset: Int) { put(value.bitPattern, at: offset) }
        func putText(_ text: String, at offset: Int) {
            for (n, byte) in text.utf8.enumerated() { out[offset + n] = byte }
        }
        put(Int32(size), at: 0)
        if kind == .nifti2 {
            putText("n+2\0\r\n\u{1A}\n", at: 4)
            put(Int16(datatype), at: 12)
            put(Int16(bitpix), at: 14)
            for n in 0..<8 { put(Int64(dims[n]), at: 16 + 8 * n) }
            for n in 0..<8 { putDouble(pixdim[n], at: 104 + 8 * n) }
            put(Int64(voxOffset), at: 168)
            putDouble(sclSlope, at: 176)
            putDouble(sclInter, at: 184)
            put(Int32(qformCode), at: 344)
            put(Int32(sformCode), at: 348)
            for n in 0..<6 { putDouble(quatern[n], at: 352 + 8 * n) }
            for r in 0..<3 { for c in 0..<4 { putDouble(srows[r][c], at: 400 + 32 * r + 8 * c) } }
            put(Int32(xyztUnits), at: 500)
        } else {
            for n in 0..<8 { put(Int16(truncatingIfNeeded: dims[n]), at: 40 + 2 * n) }
            put(Int16(datatype), at: 70)
            put(Int16(bitpix), at: 72)
            for n in 0..<8 { putFloat(pixdim[n], at: 76 + 4 * n) }
            putFloat(voxOffset, at: 108)
            if kind == .analyze {
                out[38] = UInt8(ascii: "r")
            } else {
                putFloat(sclSlope, at: 112)
                putFloat(sclInter, at: 116)
                out[123] = xyztUnits
                put(Int16(qformCode), at: 252)
                put(Int16(sformCode), at: 254)
                for n in 0..<6 { putFloat(quatern[n], at: 256 + 4 * n) }
                for r in 0..<3 { for c in 0..<4 { putFloat(srows[r][c], at: 280 + 16 * r + 4 * c) } }
                putText(kind == .nifti1 ? "n+1\0" : "ni1\0", at: 344)
            }
        }
        return out
    }

    /// Voxel bytes in this header's byte order.
    func encode<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in
            withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { Array($0) }
        }
    }

    func encode(_ values: [Float]) -> [UInt8] { encode(values.map(\.bitPattern)) }
    func encode(_ values: [Double]) -> [UInt8] { encode(values.map(\.bitPattern)) }

    /// A single file: header, padding up to vox_offset (the 4-byte extension flag), data.
    func singleFile(data: [UInt8]) -> Data {
        var file = bytes()
        let offset = Int(voxOffset)
        if offset > file.count { file += [UInt8](repeating: 0, count: offset - file.count) }
        return Data(file + data)
    }
}

func write(_ data: Data, to url: URL) throws {
    try data.write(to: url)
}
