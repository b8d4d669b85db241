/// One named tensor of a module's state, as PyTorch's `state_dict()` lists it.
public struct StateEntry {
    public let name: String
    public let tensor: Tensor
    /// True for integer buffers (e.g. `relative_position_index`), saved as int64.
    public let isInteger: Bool
}

/// A checkpoint that does not fit the model: every missing, unexpected and mis-shaped key by full path.
public struct StateDictMismatch: Error, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var wrongShape: [(name: String, expected: [Int], found: [Int])] = []

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && wrongShape.isEmpty }

    public var description: String {
        var parts: [String] = []
        func list(_ names: [String]) -> String {
            names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", … (\(names.count) in all)" : "")
        }
        if !missing.isEmpty { parts.append("missing: \(list(missing))") }
        if !unexpected.isEmpty { parts.append("unexpected: \(list(unexpected))") }
        if !wrongShape.isEmpty {
            parts.append("wrong shape: " + list(wrongShape.map { "\($0.name) (model \($0.expected), checkpoint \($0.found))" }))
        }
        return "checkpoint does not match the model; " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// Parameters and buffers in PyTorch's order: each module's own parameters, then its buffers,
    /// then its children's, depth first.
    public func stateDict() -> [StateEntry] {
        namedModules().flatMap { path, module in
            let prefix = path.isEmpty ? "" : path + "."
            return module.parameters.map { StateEntry(name: prefix + $0.0, tensor: $0.1.value, isInteger: false) }
                + module.buffers.map { StateEntry(name: prefix + $0.0, tensor: $0.1.value, isInteger: $0.1.kind == .int64) }
        }
    }

    /// Copies values by name into this module's parameters and buffers. With `strict`, any missing,
    /// unexpected or mis-shaped key fails the whole load before anything is written. Keys listed in
    /// `optional` may be absent (e.g. layers an older library version did not have).
    public func load(_ tensors: [String: Tensor], strict: Bool = true, optional: Set<String> = []) throws {
        let entries = stateDict()
        var mismatch = StateDictMismatch()
        let known = Set(entries.map(\.name))
        for entry in entries {
            guard let source = tensors[entry.name] else {
                if !optional.contains(entry.name) { mismatch.missing.append(entry.name) }
                continue
            }
            if source.shape != entry.tensor.shape {
                mismatch.wrongShape.append((entry.name, entry.tensor.shape, source.shape))
            }
        }
        mismatch.unexpected = tensors.keys.filter { !known.contains($0) }.sorted()
        if !mismatch.wrongShape.isEmpty || (strict && !mismatch.isEmpty) { throw mismatch }
        let parameters = Dictionary(namedParameters(), uniquingKeysWith: { a, _ in a })
        for entry in entries {
            guard let source = tensors[entry.name] else { continue }
            if let parameter = parameters[entry.name] { parameter.assign(source) } else { entry.tensor.assign(from: source) }
        }
    }
}
