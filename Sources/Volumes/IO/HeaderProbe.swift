/// Our own reading of the fixed part of a NIfTI-1, NIfTI-2 or ANALYZE 7.5 header, done before libnifti
/// sees the file: it decides the format and byte order the way libnifti does, and refuses anything
/// that would make libnifti (or us) misbehave: random bytes, zero/negative/absurd dimensions,
/// unsupported datatypes, impossible data offsets.
struct HeaderProbe: Equatable {
    var format: NIfTIFormat
    /// Stored in the other byte order (big-endian on this machine).
    var swapped: Bool
    /// dim[0...7] as stored.
    var dims: [Int]
    var datatype: NIfTIDatatype
    /// Where the voxels start in the data file, as libnifti computes it.
    var dataOffset: Int
    /// Whether the header file is gzip-compressed.
    var compressed: Bool

    /// Voxel-count limit: more than 2^31 Float32 voxels (8 GiB) is not an image this project reads.
    static let maxVoxels = 1 << 31

    var voxelCount: Int { dims[1...dims[0]].reduce(1, *) }
    var dataBytes: Int { voxelCount * datatype.bytesPerVoxel }

    /// (i, j, k) or (i, j, k, t) sizes; missing spatial axes are 1, a single time point is dropped.
    var shape: [Int] {
        var shape = (1...3).map { $0 <= dims[0] ? dims[$0] : 1 }
        if dims[0] >= 4, dims[4] > 1 { shape.append(dims[4]) }
        return shape
    }

    /// Reads and checks the header at the start of `file`.
    /// Reads 348 bytes, and the rest of a NIfTI-2 header only when the size field asks for it, so the
    /// data that follows a NIfTI-1 header can be reached by a short forward seek.
    static func read(_ file: GzipFile) throws -> HeaderProbe {
        var bytes = [UInt8](repeating: 0, count: 540)
        var got = try bytes.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: 348) }
        if got == 348 {
            let size = bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            if size == 540 || size.byteSwapped == 540 {
                got += try bytes.withUnsafeMutableBytes { try file.read(into: $0.baseAddress! + 348, count: 192) }
            }
        }
        return try parse(Array(bytes.prefix(got)), path: file.path, compressed: got > 0 && file.isCompressed)
    }

    static func parse(_ bytes: [UInt8], path: String, compressed: Bool) throws -> HeaderProbe {
        guard bytes.count >= 348 else {
            throw VolumeError.notNIfTI(path: path, reason: "only \(bytes.count) bytes, a header needs 348")
        }
        let native = Fields(bytes: bytes, swapped: false)
        let sizeOfHeader = native.int32(0)
        let swappedSize = sizeOfHeader.byteSwapped
        if sizeOfHeader == 540 || swappedSize == 540 {
            return try parseNIfTI2(bytes, path: path, compressed: compressed, swapped: sizeOfHeader != 540)
        }
        guard sizeOfHeader == 348 || swappedSize == 348 else {
            throw VolumeError.notNIfTI(
                path: path, reason: "header size field is \(sizeOfHeader), not 348 (NIfTI-1/ANALYZE) or 540 (NIfTI-2)")
        }
        return try parseNIfTI1(bytes, path: path, compressed: compressed, sizeSwapped: sizeOfHeader != 348)
    }

    private static func parseNIfTI1(_ bytes: [UInt8], path: String, compressed: Bool, sizeSwapped: Bool) throws
        -> HeaderProbe
    {
        // Byte order as libnifti decides it: by dim[0] when that is non-zero, else by the size field.
        let dim0 = Fields(bytes: bytes, swapped: false).int16(40)
        let swapped: Bool
        if (1...7).contains(dim0) {
            swapped = false
        } else if (1...7).contains(dim0.byteSwapped) {
            swapped = true
        } else if dim0 == 0 {
            swapped = sizeSwapped
        } else {
            throw VolumeError.badDimensions(
                path: path, dims: [Int(dim0)], reason: "dim[0] = \(dim0), the number of axes must be 1 to 7")
        }
        let fields = Fields(bytes: bytes, swapped: swapped)
        let magic = Array(bytes[344..<348])
        let format: NIfTIFormat
        switch niftiVersion(magic) {
        case 0: format = .analyze75
        case 1: format = magic[1] == UInt8(ascii: "+") ? .nifti1 : .nifti1Pair
        default:
            throw VolumeError.notNIfTI(path: path, reason: "348-byte header with magic \(quoted(magic))")
        }
        let dims = (0..<8).map { Int(fields.int16(40 + 2 * $0)) }
        let voxOffset = Double(fields.float32(108))
        guard voxOffset.isFinite, voxOffset >= 0, voxOffset < Double(Int32.max) else {
            throw VolumeError.invalidHeader(path: path, reason: "vox_offset = \(voxOffset)")
        }
        return try validated(
            format: format, swapped: swapped, dims: dims, datatypeCode: Int(fields.int16(70)),
            voxOffset: Int(voxOffset), path: path, compressed: compressed)
    }

    private static func parseNIfTI2(_ bytes: [UInt8], path: String, compressed: Bool, swapped: Bool) throws
        -> HeaderProbe
    {
        guard bytes.count >= 540 else {
            throw VolumeError.truncated(
                path: path, reason: "NIfTI-2 header needs 540 bytes, the file has only \(bytes.count)")
        }
        let fields = Fields(bytes: bytes, swapped: swapped)
        let magic = Array(bytes[4..<12])
        guard niftiVersion(magic) == 2 else {
            throw VolumeError.notNIfTI(path: path, reason: "540-byte header with magic \(quoted(magic))")
        }
        let format: NIfTIFormat = magic[1] == UInt8(ascii: "+") ? .nifti2 : .nifti2Pair
        let raw = (0..<8).map { fields.int64(16 + 8 * $0) }
        guard (1...7).contains(raw[0]) else {
            throw VolumeError.badDimensions(
                path: path, dims: [Int(truncatingIfNeeded: raw[0])],
                reason: "dim[0] = \(raw[0]), the number of axes must be 1 to 7")
        }
        let voxOffset = fields.int64(168)
        guard voxOffset >= 0, voxOffset < Int64(1) << 48 else {
            throw VolumeError.invalidHeader(path: path, reason: "vox_offset = \(voxOffset)")
        }
        return try validated(
            format: format, swapped: swapped, dims: raw.map { Int(truncatingIfNeeded: $0) },
            datatypeCode: Int(fields.int16(12)), voxOffset: Int(voxOffset), path: path, compressed: compressed)
    }

    private static func validated(
        format: NIfTIFormat, swapped: Bool, dims: [Int], datatypeCode: Int, voxOffset: Int, path: String,
        compressed: Bool
    ) throws -> HeaderProbe {
        let rank = dims[0]
        // dim[0] = 0 only decided the byte order above; as a rank it is as invalid as 8 or -3.
        guard (1...7).contains(rank) else {
            throw VolumeError.badDimensions(path: path, dims: [rank], reason: "dim[0] = \(rank), the number of axes must be 1 to 7")
        }
        let used = Array(dims[1...rank])
        if let axis = used.firstIndex(where: { $0 < 1 }) {
            throw VolumeError.badDimensions(
                path: path, dims: used, reason: "dim[\(axis + 1)] = \(used[axis]); every size must be at least 1")
        }
        if rank > 4, let axis = (5...rank).first(where: { dims[$0] > 1 }) {
            throw VolumeError.badDimensions(
                path: path, dims: used,
                reason: "dim[\(axis)] = \(dims[axis]); only 3-D and 4-D (time series) images are supported")
        }
        var count = 1
        for size in used {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxVoxels else {
                throw VolumeError.badDimensions(
                    path: path, dims: used, reason: "more than 2^31 voxels; no image here is that large")
            }
            count = product
        }
        guard let datatype = NIfTIDatatype(rawValue: datatypeCode) else {
            throw VolumeError.unsupportedDatatype(
                path: path, code: datatypeCode, name: NIfTIDatatype.name(ofCode: datatypeCode))
        }
        // libnifti: a single file's data starts at vox_offset, but never inside the header.
        let dataOffset = format.isPair ? voxOffset : max(voxOffset, format.headerSize)
        return HeaderProbe(
            format: format, swapped: swapped, dims: dims, datatype: datatype, dataOffset: dataOffset,
            compressed: compressed)
    }

    /// nifti1.h's NIFTI_VERSION: "n+N\0" or "niN\0" with N in 1...9 gives N, anything else 0.
    private static func niftiVersion(_ magic: [UInt8]) -> Int {
        guard magic[0] == UInt8(ascii: "n"), magic[3] == 0,
              magic[1] == UInt8(ascii: "i") || magic[1] == UInt8(ascii: "+"),
              (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(magic[2]) else { return 0 }
        return Int(magic[2] - UInt8(ascii: "0"))
    }

    private static func quoted(_ magic: [UInt8]) -> String {
        "\"" + magic.prefix(4).map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "\\\($0)" }.joined() + "\""
    }

    /// Little helpers to load header fields in the file's byte order.
    private struct Fields {
        let bytes: [UInt8]
        let swapped: Bool

        func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
            let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
            return swapped ? value.byteSwapped : value
        }

        func int16(_ offset: Int) -> Int16 { load(offset, as: Int16.self) }
        func int32(_ offset: Int) -> Int32 { load(offset, as: Int32.self) }
        func int64(_ offset: Int) -> Int64 { load(offset, as: Int64.self) }
        func float32(_ offset: Int) -> Float { Float(bitPattern: load(offset, as: UInt32.self)) }
    }
}
