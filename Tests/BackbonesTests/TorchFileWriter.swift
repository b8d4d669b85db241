import Foundation

/// Writes small pickle byte streams and PyTorch checkpoint files by hand, opcode by opcode, so the
/// reader is tested on cases the shared fixtures do not cover (without PyTorch).
struct PickleWriter {
    var bytes: [UInt8] = [0x80, 2]  // PROTO 2

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func op(_ code: Character) { bytes.append(code.asciiValue!) }
    mutating func mark() { op("(") }
    mutating func string(_ text: String) {
        op("X")
        append32(UInt32(text.utf8.count))
        bytes += Array(text.utf8)
    }
    mutating func int(_ value: Int) {
        op("J")
        append32(UInt32(bitPattern: Int32(value)))
    }
    mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes += Array("\(module)\n\(name)\n".utf8)
    }
    mutating func ints(_ values: [Int]) {
        mark()
        for value in values { int(value) }
        op("t")
    }
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, the storage a
    /// persistent id `('storage', torch.<type>, key, 'cpu', count[, view])`.
    mutating func tensor(type: String, key: String, count: Int, offset: Int, shape: [Int], strides: [Int], view: (String, Int, Int)? = nil) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); string("storage"); global("torch", type); string(key); string("cpu"); int(count)
        if let view { mark(); string(view.0); int(view.1); int(view.2); op("t") }
        op("t")
        op("Q")  // BINPERSID
        int(offset)
        ints(shape)
        ints(strides)
        op(0x89)  // False
        global("collections", "OrderedDict"); op(")"); op("R")
        op("t")
        op("R")
    }
    /// A dict of string keys; `values` writes each value.
    mutating func dict(_ keys: [String], _ value: (inout PickleWriter, Int) -> Void) {
        op("}")
        mark()
        for (n, key) in keys.enumerated() { string(key); value(&self, n) }
        op("u")
    }
    mutating func stop() { op(".") }

    private mutating func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
}

/// A zip archive of stored entries, as torch.save writes; `zip64` puts the sizes and offsets of every
/// entry in a ZIP64 extra field of the central directory (as torch does for large files).
func storedZip(_ entries: [(String, [UInt8])], zip64: Bool = false, method: UInt16 = 0) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func le16(_ v: Int, _ into: inout [UInt8]) { into += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func le32(_ v: Int, _ into: inout [UInt8]) { for k in 0..<4 { into.append(UInt8(v >> (8 * k) & 0xFF)) } }
    func le64(_ v: Int, _ into: inout [UInt8]) { for k in 0..<8 { into.append(UInt8(v >> (8 * k) & 0xFF)) } }
    for (name, data) in entries {
        let offset = out.count
        let nameBytes = Array(name.utf8)
        le32(0x0403_4B50, &out); le16(20, &out); le16(0, &out); le16(Int(method), &out); le32(0, &out); le32(0, &out)
        le32(data.count, &out); le32(data.count, &out); le16(nameBytes.count, &out); le16(4, &out)
        out += nameBytes
        out += [0x46, 0x42, 0, 0]  // an empty padding field, as torch's alignment padding ("FB")
        out += data
        le32(0x0201_4B50, &central); le16(20, &central); le16(45, &central); le16(0, &central); le16(Int(method), &central)
        le32(0, &central); le32(0, &central)
        var extra: [UInt8] = []
        if zip64 { le16(1, &extra); le16(24, &extra); le64(data.count, &extra); le64(data.count, &extra); le64(offset, &extra) }
        le32(zip64 ? 0xFFFF_FFFF : data.count, &central); le32(zip64 ? 0xFFFF_FFFF : data.count, &central)
        le16(nameBytes.count, &central); le16(extra.count, &central); le16(0, &central); le16(0, &central); le16(0, &central)
        le32(0, &central); le32(zip64 ? 0xFFFF_FFFF : offset, &central)
        central += nameBytes + extra
    }
    let centralOffset = out.count
    out += central
    le32(0x0605_4B50, &out); le16(0, &out); le16(0, &out); le16(entries.count, &out); le16(entries.count, &out)
    le32(central.count, &out); le32(centralOffset, &out); le16(0, &out)
    return out
}

/// A zip-format checkpoint: `archive/data.pkl` and `archive/data/<key>` for each storage.
func zipCheckpoint(_ pickle: [UInt8], storages: [(String, [UInt8])], zip64: Bool = false) -> Data {
    Data(storedZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
                   + storages.map { ("archive/data/\($0.0)", $0.1) }, zip64: zip64))
}

/// A legacy-format checkpoint: magic, protocol 1001, sys_info, the object, the key list, then each
/// storage as an 8-byte element count and its bytes.
func legacyCheckpoint(_ pickle: [UInt8], storages: [(key: String, count: Int, bytes: [UInt8])]) -> Data {
    var out: [UInt8] = [0x80, 2, 0x8A, 10, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]  // LONG1 magic
    out += [0x80, 2, 0x4D, 0xE9, 0x03, 0x2E]  // 1001
    var info = PickleWriter()
    info.dict(["protocol_version", "little_endian"]) { w, n in if n == 0 { w.int(1001) } else { w.op(0x88) } }
    info.stop()
    out += info.bytes + pickle
    var keys = PickleWriter()
    keys.op("]"); keys.mark(); for storage in storages { keys.string(storage.key) }; keys.op("e"); keys.stop()
    out += keys.bytes
    for storage in storages {
        withUnsafeBytes(of: Int64(storage.count).littleEndian) { out += $0 }
        out += storage.bytes
    }
    return Data(out)
}

func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

func floatBytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }
func doubleBytes(_ values: [Double]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }
