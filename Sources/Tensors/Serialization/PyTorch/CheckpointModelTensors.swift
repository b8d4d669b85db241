/// The model weights inside what people save with `torch.save`: a bare state_dict, or a training
/// dictionary that holds one under `state_dict`, `model`, `net`, `model_dict`, … next to optimiser
/// state, epochs and metrics (ignored). DataParallel's `module.` (and torch.compile's `_orig_mod.`)
/// prefixes are stripped.
public struct CheckpointModelTensors {
    /// The keys, outermost first, that led to the state_dict (empty for a bare one).
    public var wrapperPath: [String]
    /// The other top-level keys of the saved dictionary (epoch, optimiser state, …), ignored.
    public var ignoredKeys: [String]
    /// The prefixes stripped from the names, if any.
    public var strippedPrefixes: [String]
    /// Name (prefix stripped) and tensor, in the checkpoint's order.
    public var tensors: [(name: String, tensor: TorchTensor)]

    /// Keys under which training scripts save the model's state_dict, most specific first.
    public static let wrapperKeys = ["state_dict", "model_state_dict", "model", "net", "model_dict", "network", "module", "weights", "params"]
    static let strippablePrefixes = ["module.", "_orig_mod."]

    public init(_ checkpoint: TorchCheckpoint) throws {
        let file = checkpoint.file
        var path: [String] = []
        var ignored: [String] = []
        var current = checkpoint.root
        // Descend through wrappers until a dict of tensors (at most a few levels: {'model': {'state_dict': …}}).
        for _ in 0..<4 {
            guard case .dict(let dict) = current else {
                throw TorchCheckpointError.noModelTensors(file: file, reason: "the saved object is a \(current.kind), not a dict of tensors")
            }
            if Self.isStateDict(dict) { break }
            let keys = dict.stringKeys
            let candidates = keys.filter { key in
                if case .dict(let inner) = dict[key]!, Self.containsTensors(inner) { return true }
                return false
            }
            let chosen = Self.wrapperKeys.first { candidates.contains($0) }
                ?? (candidates.filter { !$0.lowercased().contains("optim") && !$0.lowercased().contains("sched") }.count == 1
                    ? candidates.first { !$0.lowercased().contains("optim") && !$0.lowercased().contains("sched") } : nil)
            guard let chosen else {
                if Self.containsDirectTensors(dict) { break }  // a state_dict with some other values mixed in
                let reason = candidates.isEmpty
                    ? "no tensors under any of its keys (\(keys.prefix(12).joined(separator: ", ")))"
                    : "several keys hold tensors (\(candidates.joined(separator: ", "))); convert the one you mean with a script"
                throw TorchCheckpointError.noModelTensors(file: file, reason: reason)
            }
            if path.isEmpty { ignored = keys.filter { $0 != chosen } }
            path.append(chosen)
            current = dict[chosen]!
        }
        guard case .dict(let stateDict) = current, Self.containsDirectTensors(stateDict) else {
            throw TorchCheckpointError.noModelTensors(file: file, reason: "nested too deeply under \(path.joined(separator: " → "))")
        }
        var tensors: [(String, TorchTensor)] = []
        var stripped: Set<String> = []
        var seen: Set<String> = []
        for (key, value) in stateDict.items {
            guard case .string(var name) = key, case .tensor(let tensor) = value else { continue }
            while let prefix = Self.strippablePrefixes.first(where: { name.hasPrefix($0) }) {
                name.removeFirst(prefix.count)
                stripped.insert(prefix)
            }
            guard seen.insert(name).inserted else {
                throw TorchCheckpointError.noModelTensors(file: file, reason: "'\(name)' appears twice once prefixes are stripped")
            }
            tensors.append((name, tensor))
        }
        wrapperPath = path
        ignoredKeys = ignored
        strippedPrefixes = Self.strippablePrefixes.filter { stripped.contains($0) }
        self.tensors = tensors
    }

    /// A dict whose values are all tensors under string keys (empty dicts are not state_dicts).
    static func isStateDict(_ dict: PickleDict) -> Bool {
        !dict.items.isEmpty && dict.items.allSatisfy { item in
            if case .string = item.key, case .tensor = item.value { return true }
            return false
        }
    }

    static func containsDirectTensors(_ dict: PickleDict) -> Bool {
        dict.items.contains { if case .tensor = $0.value { true } else { false } }
    }

    static func containsTensors(_ dict: PickleDict) -> Bool {
        dict.items.contains { item in
            switch item.value {
            case .tensor: return true
            case .dict(let inner): return inner !== dict && isStateDict(inner)
            default: return false
            }
        }
    }

    /// The tensors as Float32 `Tensor`s by name.
    public func values(in checkpoint: TorchCheckpoint) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in tensors { result[name] = try checkpoint.values(of: tensor, name: name) }
        return result
    }

    /// Parameters (elements) of all model tensors.
    public var elementCount: Int { tensors.reduce(0) { $0 + $1.tensor.elementCount } }
}
