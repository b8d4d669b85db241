import Foundation

// A reader for the zip archives `torch.save` writes (PyTorch ≥ 1.6): the central directory, ZIP64
// sizes and offsets, and the data of *stored* (uncompressed) entries, which is all torch writes.
// Our own ~150 lines rather than a zip package: we need no compression, no writing and no file
// system access beyond one memory-mapped file, and every offset is checked against the file here,
// so a hostile archive can only produce an error naming the file.

/// One entry of the central directory.
struct ZipEntry {
    var name: String
    /// 0 = stored; anything else is compressed and refused when read.
    var method: UInt16
    var flags: UInt16
    var compressedSize: Int
    var size: Int
    var localHeaderOffset: Int
}

/// The entries of a zip archive in memory and the bytes of the stored ones.
struct StoredZipArchive {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var entries: [String: ZipEntry] = [:]
    private(set) var names: [String] = []

    private static let endOfCentralDirectory: UInt32 = 0x0605_4B50
    private static let zip64Locator: UInt32 = 0x0706_4B50
    private static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4B50
    private static let centralHeader: UInt32 = 0x0201_4B50
    private static let localHeader: UInt32 = 0x0403_4B50

    static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes.loadUnaligned(as: UInt32.self).littleEndian == localHeader
    }

    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        self.bytes = bytes
        self.file = file
        func fail(_ reason: String) -> TorchCheckpointError { .malformedArchive(file: file, reason: reason) }
        // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
        guard bytes.count >= 22 else { throw fail("too short for a zip archive (truncated file?)") }
        var end = -1
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if u32(position) == Self.endOfCentralDirectory { end = position; break }
            position -= 1
        }
        guard end >= 0 else { throw fail("no end-of-central-directory record (truncated file?)") }
        var count = Int(u16(end + 10))
        var directorySize = Int(u32(end + 12))
        var directoryOffset = Int(u32(end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record points at the 64-bit end record.
            guard end >= 20, u32(end - 20) == Self.zip64Locator else { throw fail("ZIP64 sizes without a ZIP64 locator") }
            let record = try checkedInt(u64(end - 20 + 8), "ZIP64 end record offset")
            guard record >= 0, record <= bytes.count - 56, u32(record) == Self.zip64EndOfCentralDirectory else {
                throw fail("the ZIP64 end record offset \(record) does not point at one")
            }
            count = try checkedInt(u64(record + 32), "entry count")
            directorySize = try checkedInt(u64(record + 40), "central directory size")
            directoryOffset = try checkedInt(u64(record + 48), "central directory offset")
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= bytes.count,
              directorySize <= bytes.count - directoryOffset else {
            throw fail("the central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the \(bytes.count)-byte file")
        }
        guard count <= directorySize / 46 + 1 else { throw fail("\(count) entries cannot fit in a \(directorySize)-byte directory") }

        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for _ in 0..<count {
            guard cursor <= directoryEnd - 46, u32(cursor) == Self.centralHeader else {
                throw fail("central directory entry at byte \(cursor) is malformed")
            }
            let flags = u16(cursor + 8), method = u16(cursor + 10)
            var compressed = Int(u32(cursor + 20)), size = Int(u32(cursor + 24))
            let nameLength = Int(u16(cursor + 28)), extraLength = Int(u16(cursor + 30)), commentLength = Int(u16(cursor + 32))
            var offset = Int(u32(cursor + 42))
            let nameStart = cursor + 46
            guard nameStart + nameLength + extraLength + commentLength <= directoryEnd else {
                throw fail("central directory entry at byte \(cursor) runs past the directory")
            }
            guard let name = String(validating: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]), as: UTF8.self) else {
                throw fail("an entry name is not UTF-8")
            }
            // ZIP64 extra field (id 1): the 64-bit values of the fields saturated at 0xFFFFFFFF, in this order.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), length = Int(u16(extra + 2))
                guard extra + 4 + length <= extraEnd else { throw fail("entry '\(name)': extra field runs past its header") }
                if id == 1 {
                    var field = extra + 4
                    func next(_ what: String) throws -> Int {
                        guard field + 8 <= extra + 4 + length else { throw fail("entry '\(name)': ZIP64 field lacks the \(what)") }
                        defer { field += 8 }
                        return try checkedInt(u64(field), what)
                    }
                    if size == 0xFFFF_FFFF { size = try next("size") }
                    if compressed == 0xFFFF_FFFF { compressed = try next("compressed size") }
                    if offset == 0xFFFF_FFFF { offset = try next("header offset") }
                }
                extra += 4 + length
            }
            guard entries[name] == nil else { throw fail("the entry '\(name)' appears twice") }
            entries[name] = ZipEntry(name: name, method: method, flags: flags, compressedSize: compressed, size: size,
                                     localHeaderOffset: offset)
            names.append(name)
            cursor = extraEnd + commentLength
        }
    }

    /// The bytes of a stored entry, checked to lie inside the file.
    func data(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entries[name] else { throw TorchCheckpointError.malformedArchive(file: file, reason: "no entry '\(name)'") }
        func fail(_ reason: String) -> TorchCheckpointError { .malformedArchive(file: file, reason: "entry '\(name)': \(reason)") }
        guard entry.flags & 1 == 0 else { throw fail("encrypted") }
        guard entry.method == 0 else {
            throw fail("compressed (method \(entry.method)); torch.save stores entries uncompressed: save it again with torch.save")
        }
        guard entry.compressedSize == entry.size else { throw fail("a stored entry whose sizes differ") }
        let header = entry.localHeaderOffset
        guard header >= 0, header <= bytes.count - 30, u32(header) == Self.localHeader else {
            throw fail("its local header offset \(header) does not point at one")
        }
        let start = header + 30 + Int(u16(header + 26)) + Int(u16(header + 28))
        guard start <= bytes.count, entry.size <= bytes.count - start else {
            throw fail("its \(entry.size) bytes at \(start) run past the end of the \(bytes.count)-byte file (truncated?)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.size)])
    }

    private func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    private func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    private func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    private func checkedInt(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(Int.max / 2) else {
            throw TorchCheckpointError.malformedArchive(file: file, reason: "the \(what) \(value) is absurd")
        }
        return Int(value)
    }
}
