import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// safetensors (https://github.com/huggingface/safetensors), the checkpoint format of HippoPEFT:
//
//     [8 bytes: N, little-endian UInt64] [N bytes: JSON header] [data section]
//
// The header is one JSON object: `name -> {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`
// plus an optional `"__metadata__": {string: string}`. Offsets are byte offsets into the data section;
// the tensors must cover it exactly (no overlaps, no holes, nothing after the last tensor). Data is
// little-endian and row-major.
//
// Reading validates everything before touching data and converts every dtype to Float32 `Tensor`s.
// Nothing in a file can trap: every inconsistency is a `SafetensorsError` naming the file and the tensor.

/// The element types of the safetensors format that HippoPEFT reads and writes.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .F64, .I64: 8
        case .F32, .I32: 4
        case .F16, .BF16, .I16: 2
        case .I8, .U8, .BOOL: 1
        }
    }

    /// Integer dtypes; read exactly only when every value is representable in Float32 (|v| ≤ 2^24).
    public var isInteger: Bool {
        switch self {
        case .I64, .I32, .I16, .I8, .U8, .BOOL: true
        case .F64, .F32, .F16, .BF16: false
        }
    }
}

/// One named tensor of an archive, with the dtype it has (or will have) in the file.
public struct SafetensorsEntry {
    public var name: String
    /// The values, always Float32 in memory.
    public var tensor: Tensor
    /// The dtype in the file: what it was read from, or what `write(to:)` converts to.
    public var dtype: SafetensorsDType

    public init(name: String, tensor: Tensor, dtype: SafetensorsDType = .F32) {
        self.name = name
        self.tensor = tensor
        self.dtype = dtype
    }
}

/// A safetensors file in memory: its tensors in file order and its string metadata.
///
/// ```swift
/// let archive = try SafetensorsArchive.read(contentsOf: url)
/// let qkv = archive["vit.blocks.0.attn.qkv.weight"]          // Tensor? of shape [3·hidden, hidden]
/// try SafetensorsArchive(entries: [.init(name: "w", tensor: w)], metadata: ["format": "pt"]).write(to: out)
/// ```
public struct SafetensorsArchive {
    /// In file order (by data offset) after `read`; written in this order by `write`.
    public var entries: [SafetensorsEntry]
    public var metadata: [String: String]

    public init(entries: [SafetensorsEntry], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor named `name`, or nil.
    public subscript(name: String) -> Tensor? {
        entries.first { $0.name == name }?.tensor
    }

    /// The entry names in order.
    public var names: [String] { entries.map(\.name) }

    /// The largest header `read` accepts (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    // MARK: Reading

    /// Reads and validates a whole file, converting every tensor to Float32.
    ///
    /// Conversions: F16, BF16 and F64 are rounded to Float32; integer dtypes are read exactly, and a
    /// value with |v| > 2^24 (which Float32 cannot hold exactly) is an error naming the tensor.
    public static func read(contentsOf url: URL) throws -> SafetensorsArchive {
        let file = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw SafetensorsError.cannotRead(file: file, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw SafetensorsError.cannotRead(file: file, reason: "is a directory, not a .safetensors file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError.cannotRead(file: file, reason: error.localizedDescription)
        }
        return try data.withUnsafeBytes { try decode($0, file: file) }
    }

    /// Decodes the bytes of a safetensors file; `file` names it in errors.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> SafetensorsArchive {
        try data.withUnsafeBytes { try decode($0, file: file) }
    }

    private struct Layout {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
        var headerIndex: Int
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> SafetensorsArchive {
        guard bytes.count >= 8, let base = bytes.baseAddress else {
            throw SafetensorsError.fileTooShort(file: file, byteCount: bytes.count)
        }
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(maximumHeaderLength), headerLength <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.headerLengthInvalid(file: file, headerLength: headerLength, fileSize: bytes.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + Int(headerLength))])
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart

        // Parse and check the header.
        let root: HeaderJSONValue
        do {
            var parser = HeaderJSONParser(bytes: headerBytes)
            root = try parser.parseDocument()
        } catch let failure as HeaderJSONParser.Failure {
            throw SafetensorsError.malformedHeader(file: file, reason: "not valid JSON: \(failure.message)")
        }
        guard case .object(let members) = root else {
            throw SafetensorsError.malformedHeader(file: file, reason: "the JSON header is not an object")
        }

        var metadata: [String: String] = [:]
        var layouts: [Layout] = []
        var seen = Set<String>()
        layouts.reserveCapacity(members.count)
        for (key, value) in members {
            guard seen.insert(key).inserted else {
                throw SafetensorsError.duplicateName(file: file, tensor: key)
            }
            if key == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
                continue
            }
            var layout = try parseTensorInfo(name: key, value, file: file, dataSize: dataSize)
            layout.headerIndex = layouts.count
            layouts.append(layout)
        }

        // The tensors must tile the data section: sorted by offset, each starts where the last ended.
        layouts.sort { ($0.begin, $0.end, $0.headerIndex) < ($1.begin, $1.end, $1.headerIndex) }
        var position = 0
        var previous: String?
        for layout in layouts {
            if layout.begin < position, let previous {
                throw SafetensorsError.overlappingData(file: file, tensor: layout.name, other: previous)
            }
            if layout.begin > position {
                throw SafetensorsError.dataNotContiguous(
                    file: file,
                    reason: "bytes \(position)..<\(layout.begin) of the data section belong to no tensor"
                        + (previous.map { " (a hole between '\($0)' and '\(layout.name)')" }
                           ?? " (before the first tensor '\(layout.name)')"))
            }
            position = layout.end
            previous = layout.name
        }
        if position != dataSize {
            throw SafetensorsError.dataNotContiguous(
                file: file,
                reason: "the tensors end at byte \(position) of the data section, but it has \(dataSize) bytes "
                    + "(trailing data after the last tensor)")
        }

        // Convert.
        var entries: [SafetensorsEntry] = []
        entries.reserveCapacity(layouts.count)
        for layout in layouts {
            let tensor = Tensor(uninitialized: layout.shape)
            try convert(from: base + dataStart + layout.begin, dtype: layout.dtype, count: layout.count,
                        into: tensor.pointer, name: layout.name, file: file)
            entries.append(SafetensorsEntry(name: layout.name, tensor: tensor, dtype: layout.dtype))
        }
        return SafetensorsArchive(entries: entries, metadata: metadata)
    }

    private static func parseMetadata(_ value: HeaderJSONValue, file: String) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw SafetensorsError.malformedHeader(file: file, reason: "__metadata__ is not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw SafetensorsError.malformedHeader(
                    file: file, reason: "__metadata__ value for '\(key)' is not a string")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw SafetensorsError.malformedHeader(file: file, reason: "__metadata__ repeats the key '\(key)'")
            }
        }
        return metadata
    }

    private static func parseTensorInfo(name: String, _ value: HeaderJSONValue, file: String, dataSize: Int) throws -> Layout {
        func malformed(_ reason: String) -> SafetensorsError {
            .malformedHeader(file: file, reason: "tensor '\(name)': \(reason)")
        }
        guard case .object(let fields) = value else { throw malformed("its entry is not an object") }
        var dtypeValue: HeaderJSONValue?, shapeValue: HeaderJSONValue?, offsetsValue: HeaderJSONValue?
        for (key, field) in fields {
            switch key {
            case "dtype": dtypeValue = field
            case "shape": shapeValue = field
            case "data_offsets": offsetsValue = field
            default: continue  // unknown fields are ignored, as the reference implementation does
            }
        }
        guard case .string(let dtypeName)? = dtypeValue else { throw malformed("missing or non-string \"dtype\"") }
        guard case .array(let shapeItems)? = shapeValue else { throw malformed("missing or non-array \"shape\"") }
        guard case .array(let offsetItems)? = offsetsValue else { throw malformed("missing or non-array \"data_offsets\"") }

        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
        }

        var shape: [Int] = []
        shape.reserveCapacity(shapeItems.count)
        var count = 1
        for item in shapeItems {
            guard case .number(let text) = item else {
                throw SafetensorsError.invalidShape(file: file, tensor: name, reason: "shape entries must be integers")
            }
            guard let dimension = Int(text) else {
                throw SafetensorsError.invalidShape(file: file, tensor: name, reason: "shape entry \(text) is not an integer in range")
            }
            guard dimension >= 0 else {
                throw SafetensorsError.invalidShape(file: file, tensor: name, reason: "negative dimension \(dimension)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw SafetensorsError.invalidShape(file: file, tensor: name, reason: "the element count overflows")
            }
            count = product
            shape.append(dimension)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else {
            throw SafetensorsError.invalidShape(file: file, tensor: name, reason: "the byte count overflows")
        }

        guard offsetItems.count == 2, case .number(let beginText) = offsetItems[0], case .number(let endText) = offsetItems[1],
              let begin = Int(beginText), let end = Int(endText)
        else { throw malformed("\"data_offsets\" must be two integers [begin, end]") }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw SafetensorsError.invalidOffsets(file: file, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard end - begin == byteCount else {
            throw SafetensorsError.sizeMismatch(file: file, tensor: name, shape: shape, dtype: dtype,
                                                expectedBytes: byteCount, actualBytes: end - begin)
        }
        return Layout(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end, headerIndex: 0)
    }

    /// Converts `count` little-endian elements of `dtype` at `source` (any alignment) to Float32.
    static func convert(from source: UnsafeRawPointer, dtype: SafetensorsDType, count: Int,
                                into destination: UnsafeMutablePointer<Float>, name: String, file: String) throws {
        func notExact(_ value: Int64) -> SafetensorsError {
            .valueNotRepresentable(file: file, tensor: name, dtype: dtype,
                                   value: "\(value) is beyond ±2^24, so Float32 cannot hold it exactly")
        }
        let exactLimit: Int64 = 1 << 24
        switch dtype {
        case .F32:
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            #else
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
        case .F64:
            for i in 0..<count {
                destination[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        case .F16:
            for i in 0..<count {
                destination[i] = Float(Float16(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
            }
        case .BF16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .I64:
            for i in 0..<count {
                let value = Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                guard value >= -exactLimit, value <= exactLimit else { throw notExact(value) }
                destination[i] = Float(value)
            }
        case .I32:
            for i in 0..<count {
                let value = Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                guard Int64(value) >= -exactLimit, Int64(value) <= exactLimit else { throw notExact(Int64(value)) }
                destination[i] = Float(value)
            }
        case .I16:
            for i in 0..<count {
                destination[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
            }
        case .I8:
            let bytes = source.assumingMemoryBound(to: Int8.self)
            for i in 0..<count { destination[i] = Float(bytes[i]) }
        case .U8:
            let bytes = source.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { destination[i] = Float(bytes[i]) }
        case .BOOL:
            let bytes = source.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { destination[i] = bytes[i] == 0 ? 0 : 1 }
        }
    }

    // MARK: Writing

    /// Writes the archive atomically: a temporary file in the same folder, fsync, then rename over `url`.
    ///
    /// Each entry is stored in its `dtype`: F32 as is; F64 widened; F16 and BF16 rounded to nearest even;
    /// integer dtypes by rounding to the nearest integer (ties to even), an error when a value is not
    /// finite or out of the dtype's range; BOOL stores 1 for every non-zero value.
    public func write(to url: URL) throws {
        let file = url.path
        var names = Set<String>()
        for entry in entries {
            guard entry.name != "__metadata__" else {
                throw SafetensorsError.cannotWrite(file: file, reason: "'__metadata__' is reserved and cannot name a tensor")
            }
            guard names.insert(entry.name).inserted else {
                throw SafetensorsError.duplicateName(file: file, tensor: entry.name)
            }
        }
        let header = headerBytes()

        let folder = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SafetensorsError.cannotWrite(file: file, reason: "cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        let writer = Writer(descriptor: descriptor, file: file)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try writer.write($0) }
        try header.withUnsafeBytes { try writer.write($0) }
        var scratch: [UInt8] = []
        for entry in entries {
            try Self.encode(entry, into: &scratch, writer: writer, file: file)
        }
        guard fsync(descriptor) == 0 else {
            throw SafetensorsError.cannotWrite(file: file, reason: "fsync failed: \(String(cString: strerror(errno)))")
        }
        closed = true
        guard close(descriptor) == 0 else {
            throw SafetensorsError.cannotWrite(file: file, reason: "close failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, file) == 0 else {
            throw SafetensorsError.cannotWrite(file: file, reason: "rename into place failed: \(String(cString: strerror(errno)))")
        }
        renamed = true
        // Make the rename itself durable (best effort: some file systems refuse to fsync a directory).
        let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// The JSON header, padded with spaces so the data section starts at a multiple of 8 bytes.
    private func headerBytes() -> [UInt8] {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for entry in entries {
            let byteCount = entry.tensor.count * entry.dtype.size
            if !first { json += "," }
            first = false
            json += "\(jsonString(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":["
            json += entry.tensor.shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(offset),\(offset + byteCount)]}"
            offset += byteCount
        }
        json += "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    private static func encode(_ entry: SafetensorsEntry, into scratch: inout [UInt8], writer: Writer, file: String) throws {
        let source = entry.tensor.pointer
        let count = entry.tensor.count
        let dtype = entry.dtype
        #if _endian(little)
        if dtype == .F32 {
            try writer.write(UnsafeRawBufferPointer(start: source, count: count * 4))
            return
        }
        #endif
        func outOfRange(_ value: Float) -> SafetensorsError {
            .valueNotRepresentable(file: file, tensor: entry.name, dtype: dtype,
                                   value: "\(value) is not finite or out of \(dtype.rawValue)'s range")
        }
        let chunk = 1 << 16
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            let x = source + start
            scratch.removeAll(keepingCapacity: true)
            scratch.reserveCapacity(n * dtype.size)
            func append<T: FixedWidthInteger>(_ value: T) {
                withUnsafeBytes(of: value.littleEndian) { scratch.append(contentsOf: $0) }
            }
            func integer<T: FixedWidthInteger>(_ value: Float, as type: T.Type) throws -> T {
                let rounded = value.rounded(.toNearestOrEven)
                guard rounded.isFinite, let exact = T(exactly: rounded) else { throw outOfRange(value) }
                return exact
            }
            switch dtype {
            case .F32: for i in 0..<n { append(x[i].bitPattern) }
            case .F64: for i in 0..<n { append(Double(x[i]).bitPattern) }
            case .F16: for i in 0..<n { append(Float16(x[i]).bitPattern) }
            case .BF16: for i in 0..<n { append(bfloat16Bits(x[i])) }
            case .I64: for i in 0..<n { append(try integer(x[i], as: Int64.self)) }
            case .I32: for i in 0..<n { append(try integer(x[i], as: Int32.self)) }
            case .I16: for i in 0..<n { append(try integer(x[i], as: Int16.self)) }
            case .I8: for i in 0..<n { append(try integer(x[i], as: Int8.self)) }
            case .U8: for i in 0..<n { append(try integer(x[i], as: UInt8.self)) }
            case .BOOL: for i in 0..<n { scratch.append(x[i] == 0 ? 0 : 1) }
            }
            try scratch.withUnsafeBytes { try writer.write($0) }
            start += n
        }
    }
}

/// Float32 → bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN.
@inline(__always)
private func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
    let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif

/// Writes whole buffers to a descriptor, retrying short writes and EINTR.
private struct Writer {
    let descriptor: Int32
    let file: String

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = posixWrite(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError.cannotWrite(file: file, reason: String(cString: strerror(errno)))
            }
            pointer += written
            remaining -= written
        }
    }
}
