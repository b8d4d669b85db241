/// The globals a restricted unpickler accepts: what `torch.save` of a state_dict (and of the usual
/// training dictionaries around it) names, and nothing that can run code. Every other `module.name`
/// is refused when the pickle names it, before anything is called.
public enum TorchGlobal: Equatable {
    case orderedDict
    case rebuildTensor, rebuildTensorV2, rebuildParameter, rebuildParameterWithState
    /// `torch.FloatStorage`, … : the element type of the storages they name.
    case storageType(SafetensorsDType, name: String)
    /// `torch.float32`, … (dtypes appear as values, e.g. in a tensor's metadata).
    case dtype(String)
    case torchSize, torchDevice
    case set, frozenSet
    /// `_codecs.encode(text, 'latin1')`: how protocol 2 pickles bytes.
    case encode

    public var name: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensor: "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: "torch._utils._rebuild_parameter_with_state"
        case .storageType(_, let name): "torch.\(name)"
        case .dtype(let name): "torch.\(name)"
        case .torchSize: "torch.Size"
        case .torchDevice: "torch.device"
        case .set: "builtins.set"
        case .frozenSet: "builtins.frozenset"
        case .encode: "_codecs.encode"
        }
    }

    static let storageTypes: [String: SafetensorsDType] = [
        "FloatStorage": .F32, "DoubleStorage": .F64, "HalfStorage": .F16, "BFloat16Storage": .BF16,
        "LongStorage": .I64, "IntStorage": .I32, "ShortStorage": .I16, "CharStorage": .I8,
        "ByteStorage": .U8, "BoolStorage": .BOOL,
    ]

    static let dtypeNames: Set<String> = [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool",
    ]

    /// The allowed global `module.name`, or nil.
    static func named(module: String, name: String) -> TorchGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch", "Size"): return .torchSize
        case ("torch", "device"): return .torchDevice
        case ("builtins", "set"), ("__builtin__", "set"): return .set
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): return .frozenSet
        case ("_codecs", "encode"): return .encode
        case ("torch", _):
            if let dtype = storageTypes[name] { return .storageType(dtype, name: name) }
            if dtypeNames.contains(name) { return .dtype(name) }
            return nil
        default: return nil
        }
    }
}
