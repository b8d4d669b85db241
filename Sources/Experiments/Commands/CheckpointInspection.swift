import Backbones
import Foundation
import Tensors

/// What a PyTorch checkpoint holds (`harness checkpoint inspect`): its format, the wrapper keys around
/// the model's state_dict, and each model tensor's name, shape and dtype.
public struct CheckpointInspection: Encodable, Sendable {
    public struct Entry: Encodable, Sendable {
        public var name: String
        public var shape: [Int]
        public var dtype: String
    }

    public var file: String
    public var format: String
    /// The keys that led to the state_dict, outermost first (empty: a bare state_dict).
    public var wrapperKeys: [String]
    /// Other top-level keys (optimiser state, epoch, …), not read.
    public var ignoredKeys: [String]
    public var strippedPrefixes: [String]
    public var parameterCount: Int
    public var tensors: [Entry]

    enum CodingKeys: String, CodingKey {
        case file, format, wrapperKeys = "wrapper_keys", ignoredKeys = "ignored_keys", strippedPrefixes = "stripped_prefixes"
        case parameterCount = "parameter_count", tensors
    }

    public static func make(_ url: URL) throws -> CheckpointInspection {
        let checkpoint = try TorchCheckpoint.read(contentsOf: url)
        let model = try CheckpointModelTensors(checkpoint)
        return CheckpointInspection(
            file: url.path, format: checkpoint.format.rawValue, wrapperKeys: model.wrapperPath, ignoredKeys: model.ignoredKeys,
            strippedPrefixes: model.strippedPrefixes, parameterCount: model.elementCount,
            tensors: model.tensors.map { Entry(name: $0.name, shape: $0.tensor.shape, dtype: $0.tensor.dtype.rawValue) })
    }

    public var text: String {
        var lines = ["\(file): PyTorch \(format) checkpoint"]
        lines.append("  model tensors: " + (wrapperKeys.isEmpty ? "a bare state_dict" : "under " + wrapperKeys.map { "'\($0)'" }.joined(separator: " → ")))
        if !ignoredKeys.isEmpty { lines.append("  ignored keys: " + ignoredKeys.joined(separator: ", ")) }
        if !strippedPrefixes.isEmpty { lines.append("  prefixes stripped: " + strippedPrefixes.joined(separator: ", ")) }
        lines.append("  \(tensors.count) tensors, \(parameterCount) parameters")
        let dtypes = Dictionary(grouping: tensors, by: \.dtype).map { "\($0.key) \($0.value.count)" }.sorted()
        lines.append("  dtypes: " + dtypes.joined(separator: ", "))
        for entry in tensors { lines.append("  \(entry.name)  \(entry.shape)  \(entry.dtype)") }
        return lines.joined(separator: "\n")
    }
}

/// `harness checkpoint convert`: a checkpoint's model tensors as a safetensors file.
public enum CheckpointConversion {
    public struct Outcome: Sendable {
        public var tensorCount: Int
        public var parameterCount: Int
        /// With a backbone: the names the checkpoint lacked that its forward pass never uses.
        public var unusedMissing: [String]
    }

    /// Floating tensors become F32 and bool U8 unless `keepDtype`; integer tensors keep their dtype. With
    /// `backbone`, the tensors must load strictly into that configuration first (nothing is written otherwise).
    public static func convert(_ input: URL, to output: URL, backbone: BackboneConfig?, keepDtype: Bool) throws -> Outcome {
        let checkpoint = try TorchCheckpoint.read(contentsOf: input)
        let model = try CheckpointModelTensors(checkpoint)
        var entries: [SafetensorsEntry] = []
        var byName: [String: Tensor] = [:]
        for (name, tensor) in model.tensors {
            let values = try checkpoint.values(of: tensor, name: name)
            // As the fixtures' expected files: floats as F32, bool as U8 (what safetensors.torch readers expect), integers as they are.
            let dtype: SafetensorsDType = keepDtype ? tensor.dtype : !tensor.dtype.isInteger ? .F32 : tensor.dtype == .BOOL ? .U8 : tensor.dtype
            entries.append(SafetensorsEntry(name: name, tensor: values, dtype: dtype))
            byName[name] = values
        }
        var unused: [String] = []
        if let backbone {
            unused = try makeBackbone(backbone).load(checkpoint: byName, file: input.lastPathComponent)
        }
        try SafetensorsArchive(entries: entries, metadata: ["format": "pt", "source": input.lastPathComponent]).write(to: output)
        return Outcome(tensorCount: entries.count, parameterCount: model.elementCount, unusedMissing: unused)
    }
}
