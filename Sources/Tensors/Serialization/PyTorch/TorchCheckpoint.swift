import Foundation

// PyTorch checkpoints (`torch.save`), read without PyTorch and without running anything they contain.
//
// Zip format (PyTorch ≥ 1.6): a zip archive whose single top folder holds `data.pkl` (the pickled
// object; tensors are `_rebuild_tensor_v2(storage, offset, size, stride, …)` whose storage is a
// persistent id `('storage', torch.FloatStorage, key, location, numel)`) and `data/<key>`, each
// storage's raw little-endian bytes, stored uncompressed.
//
// Legacy format (before 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row — a
// magic number, the protocol version 1001, a sys_info dict, the object (persistent ids
// `('storage', type, key, location, numel, view_metadata)`), the list of storage keys — then, for
// each key in that order, an 8-byte little-endian element count and the storage's bytes.
//
// Limits, as for safetensors: a pickle of at most 100 MB; every storage, view and length checked to
// lie inside the file; views that repeat elements (expanded tensors) refused.

/// A PyTorch checkpoint read into `PickleValue`s, its tensors left in the mapped file until asked for.
public struct TorchCheckpoint {
    public enum Format: String, Sendable { case zip, legacy }

    public let file: String
    public let format: Format
    /// The unpickled object (usually a dict).
    public let root: PickleValue
    /// The file's bytes (memory-mapped), which the storages point into.
    private let data: Data

    /// The largest pickle read (the safetensors header limit).
    public static let maximumPickleLength = SafetensorsArchive.maximumHeaderLength
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c

    /// True for files that start like a checkpoint of either format (zip or pickle protocol 2+).
    public static func looksLikeCheckpoint(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url), let head = try? handle.read(upToCount: 4) else { return false }
        try? handle.close()
        return head.count >= 2 && (head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head[head.startIndex] == 0x80)
    }

    public static func read(contentsOf url: URL) throws -> TorchCheckpoint {
        let file = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw TorchCheckpointError.cannotRead(file: file, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw TorchCheckpointError.cannotRead(file: file, reason: "is a directory, not a .pth file") }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw TorchCheckpointError.cannotRead(file: file, reason: error.localizedDescription)
        }
        return try decode(data, file: file)
    }

    /// Decodes the bytes of a checkpoint; `file` names it in errors.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> TorchCheckpoint {
        let (format, root) = try data.withUnsafeBytes { bytes -> (Format, PickleValue) in
            if StoredZipArchive.isZip(bytes) { return (.zip, try readZip(bytes, file: file)) }
            if bytes.first == 0x80 { return (.legacy, try readLegacy(bytes, file: file)) }
            throw TorchCheckpointError.notACheckpoint(
                file: file, reason: "it is neither a zip archive nor a pickle (a safetensors file? use it as it is)")
        }
        return TorchCheckpoint(file: file, format: format, root: root, data: data)
    }

    // MARK: The two formats

    private static func readZip(_ bytes: UnsafeRawBufferPointer, file: String) throws -> PickleValue {
        let archive = try StoredZipArchive(bytes: bytes, file: file)
        let pickles = archive.names.filter { $0.hasSuffix("data.pkl") && $0.split(separator: "/").count == 2 }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw TorchCheckpointError.notACheckpoint(
                file: file, reason: "a zip archive without exactly one <folder>/data.pkl (found \(pickles.count)); not written by torch.save")
        }
        let folder = String(pickleName.dropLast("data.pkl".count))
        if archive.entries[folder + "byteorder"] != nil {
            let order = String(decoding: try archive.data(folder + "byteorder"), as: UTF8.self)
            guard order == "little" else {
                throw TorchCheckpointError.notACheckpoint(file: file, reason: "its byteorder is '\(order)'; only little-endian checkpoints are read")
            }
        }
        let pickle = try archive.data(pickleName)
        try checkPickleLength(pickle.count, file: file)
        var storages: [String: TorchStorage] = [:]
        var unpickler = RestrictedUnpickler(bytes: pickle, file: file) { id in
            let (storage, _) = try storageReference(id, storages: &storages, legacy: false, file: file)
            return .storage(storage)
        }
        let root = try unpickler.load()
        for storage in storages.values {
            let entry = try archive.data(folder + "data/" + storage.key)
            let expected = storage.count * storage.dtype.size
            guard entry.count == expected else {
                throw TorchCheckpointError.invalidTensor(
                    file: file, reason: "storage '\(storage.key)' should hold \(storage.count) \(storage.dtype.rawValue) elements "
                        + "(\(expected) bytes) but its entry has \(entry.count) bytes")
            }
            let start = entry.baseAddress.map { bytes.baseAddress!.distance(to: $0) } ?? 0
            storage.byteRange = start..<(start + expected)
        }
        return root
    }

    private static func readLegacy(_ bytes: UnsafeRawBufferPointer, file: String) throws -> PickleValue {
        func next(_ start: Int, persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) throws -> (PickleValue, Int) {
            var unpickler = RestrictedUnpickler(bytes: bytes, file: file, start: start, persistentLoad: persistentLoad)
            let value = try unpickler.load()
            try checkPickleLength(unpickler.position - start, file: file)
            return (value, unpickler.position)
        }
        let (magic, afterMagic) = try next(0)
        guard case .bigInt(let magicBytes) = magic, magicBytes == legacyMagic else {
            throw TorchCheckpointError.notACheckpoint(file: file, reason: "a pickle without torch's magic number (a plain pickle, not torch.save's)")
        }
        let (version, afterVersion) = try next(afterMagic)
        guard case .int(1001) = version else {
            throw TorchCheckpointError.notACheckpoint(file: file, reason: "legacy protocol version \(version) (1001 expected)")
        }
        let (systemInfo, afterInfo) = try next(afterVersion)
        if case .dict(let info) = systemInfo, case .bool(false)? = info["little_endian"] {
            throw TorchCheckpointError.notACheckpoint(file: file, reason: "written on a big-endian machine; only little-endian checkpoints are read")
        }
        var storages: [String: TorchStorage] = [:]
        var views: [(view: TorchStorage, root: TorchStorage, offset: Int)] = []
        let (root, afterRoot) = try next(afterInfo) { id in
            let (storage, view) = try storageReference(id, storages: &storages, legacy: true, file: file)
            guard let view else { return .storage(storage) }
            views.append((view.storage, storage, view.offset))
            return .storage(view.storage)
        }
        let (keyList, afterKeys) = try next(afterRoot)
        guard case .list(let keys) = keyList else {
            throw TorchCheckpointError.malformedPickle(file: file, offset: afterRoot, reason: "the storage key list is a \(keyList.kind)")
        }
        var position = afterKeys
        for key in keys.items {
            guard case .string(let name) = key, let storage = storages[name] else {
                throw TorchCheckpointError.invalidTensor(file: file, reason: "the storage list names \(key.kind) '\(key)', which no tensor uses")
            }
            guard position <= bytes.count - 8 else { throw truncated(file, name) }
            let count = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
            guard count == Int64(storage.count) else {
                throw TorchCheckpointError.invalidTensor(
                    file: file, reason: "storage '\(name)' holds \(count) elements in the data but \(storage.count) in the pickle")
            }
            let byteCount = storage.count * storage.dtype.size
            guard byteCount <= bytes.count - position - 8 else { throw truncated(file, name) }
            storage.byteRange = (position + 8)..<(position + 8 + byteCount)
            position += 8 + byteCount
        }
        for storage in storages.values where storage.byteRange == nil {
            throw TorchCheckpointError.invalidTensor(file: file, reason: "storage '\(storage.key)' is used but its data is missing")
        }
        for (view, rootStorage, offset) in views {
            let base = rootStorage.byteRange!.lowerBound + offset * rootStorage.dtype.size
            view.byteRange = base..<(base + view.count * view.dtype.size)
        }
        return root
    }

    private static func truncated(_ file: String, _ key: String) -> TorchCheckpointError {
        .invalidTensor(file: file, reason: "the data of storage '\(key)' runs past the end of the file (truncated?)")
    }

    private static func checkPickleLength(_ length: Int, file: String) throws {
        guard length <= maximumPickleLength else {
            throw TorchCheckpointError.notACheckpoint(file: file, reason: "a \(length)-byte pickle (more than the \(maximumPickleLength) accepted)")
        }
    }

    /// Resolves `('storage', type, key, location, numel[, view_metadata])`; the same key twice is the
    /// same storage (tensors that share memory). Legacy view metadata `(view_key, offset, size)` gives a
    /// view storage inside the root one.
    private static func storageReference(_ id: PickleValue, storages: inout [String: TorchStorage], legacy: Bool,
                                         file: String) throws -> (TorchStorage, (storage: TorchStorage, offset: Int)?) {
        func fail(_ reason: String) -> TorchCheckpointError { .invalidTensor(file: file, reason: "storage reference: \(reason)") }
        guard case .tuple(let fields) = id, fields.count >= 5, case .string("storage") = fields[0] else {
            throw fail("a persistent id that is not ('storage', type, key, location, size)")
        }
        guard case .global(.storageType(let dtype, _)) = fields[1] else {
            throw fail("\(fields[1].kind) is not a supported storage type (float, half, bfloat16, double, integer or bool)")
        }
        guard case .string(let key) = fields[2] else { throw fail("the key is a \(fields[2].kind)") }
        guard case .int(let count64) = fields[4], count64 >= 0, let count = Int(exactly: count64),
              count.multipliedReportingOverflow(by: dtype.size).overflow == false else {
            throw fail("storage '\(key)' has an invalid size")
        }
        let storage: TorchStorage
        if let existing = storages[key] {
            guard existing.dtype == dtype, existing.count == count else {
                throw fail("storage '\(key)' is named with two types or sizes")
            }
            storage = existing
        } else {
            storage = TorchStorage(key: key, dtype: dtype, count: count)
            storages[key] = storage
        }
        guard legacy, fields.count >= 6, case .tuple(let view) = fields[5] else { return (storage, nil) }
        guard view.count == 3, case .string(let viewKey) = view[0], case .int(let offset64) = view[1], case .int(let size64) = view[2],
              let offset = Int(exactly: offset64), let size = Int(exactly: size64), offset >= 0, size >= 0, offset <= count, size <= count - offset else {
            throw fail("storage '\(key)' has an invalid view")
        }
        return (storage, (TorchStorage(key: viewKey, dtype: dtype, count: size), offset))
    }

    // MARK: Values

    /// The tensor's values as Float32, in row-major order of its shape. Integers beyond ±2^24 (which
    /// Float32 cannot hold exactly) are an error naming the tensor.
    public func values(of tensor: TorchTensor, name: String) throws -> Tensor {
        guard let range = tensor.storage.byteRange else {
            throw TorchCheckpointError.invalidTensor(file: file, reason: "tensor '\(name)' has no data")
        }
        let output = Tensor(uninitialized: tensor.shape)
        let count = tensor.elementCount
        guard count > 0 else { return output }
        let size = tensor.dtype.size
        try data.withUnsafeBytes { bytes in
            let storage = bytes.baseAddress! + range.lowerBound
            let contiguousStrides = Self.contiguousStrides(tensor.shape)
            if tensor.strides == contiguousStrides || count == 1 {
                try SafetensorsArchive.convert(from: storage + tensor.offset * size, dtype: tensor.dtype, count: count,
                                               into: output.pointer, name: name, file: file)
                return
            }
            // A strided view: gather its elements into row-major order, then convert.
            var gathered = [UInt8](repeating: 0, count: count * size)
            var index = [Int](repeating: 0, count: tensor.shape.count)
            var source = tensor.offset
            gathered.withUnsafeMutableBytes { target in
                for n in 0..<count {
                    target.baseAddress!.advanced(by: n * size).copyMemory(from: storage + source * size, byteCount: size)
                    var axis = tensor.shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        source += tensor.strides[axis]
                        if index[axis] < tensor.shape[axis] { break }
                        source -= tensor.strides[axis] * tensor.shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
            try gathered.withUnsafeBytes {
                try SafetensorsArchive.convert(from: $0.baseAddress!, dtype: tensor.dtype, count: count, into: output.pointer, name: name, file: file)
            }
        }
        return output
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }
}
