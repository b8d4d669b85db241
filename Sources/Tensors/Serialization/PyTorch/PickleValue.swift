/// A value of a restricted pickle: plain data, containers, and the few torch objects a checkpoint
/// holds. Nothing here can run code; a pickle that names anything else is refused while it is read.
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer beyond Int64, as its little-endian two's-complement bytes (pickle's LONG encoding).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global not (yet) called: a storage type, a dtype, a rebuild function.
    case global(TorchGlobal)
    case storage(TorchStorage)
    case tensor(TorchTensor)

    /// What the value is, for error messages.
    public var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let global): global.name
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// A pickled list (a class: a list can be memoised and appended to later).
public final class PickleList {
    public var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A pickled dict or OrderedDict, in insertion order (a later value for an existing key replaces it).
public final class PickleDict {
    public private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    init() {}

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let text) = key {
            if let index = stringIndex[text] { items[index].value = value; return }
            stringIndex[text] = items.count
        }
        items.append((key, value))
    }

    /// The value of a string key.
    public subscript(key: String) -> PickleValue? { stringIndex[key].map { items[$0].value } }

    /// The string keys in order.
    public var stringKeys: [String] { items.compactMap { if case .string(let text) = $0.key { text } else { nil } } }
}
