import Foundation
import Tensors

public enum CheckpointError: Error, CustomStringConvertible {
    case mismatch(file: String, StateDictMismatch)
    case inconsistentBuffer(file: String, name: String)

    public var description: String {
        switch self {
        case .mismatch(let file, let mismatch): "\(file): \(mismatch)"
        case .inconsistentBuffer(let file, let name):
            "\(file): buffer '\(name)' differs from the one this configuration implies (a checkpoint of another window size?)"
        }
    }
}

extension Backbone {
    /// Loads MONAI-named weights from a safetensors file, strictly: every missing, unexpected and
    /// mis-shaped key is listed. Accepted on top of MONAI 1.6's own state_dict: a `module.` prefix
    /// (DataParallel), and checkpoints from MONAI < 1.4, which lack the unused `norm_cross_attn` layers.
    public func loadCheckpoint(_ url: URL) throws {
        let archive = try SafetensorsArchive.read(contentsOf: url)
        var tensors: [String: Tensor] = [:]
        for entry in archive.entries {
            let name = entry.name.hasPrefix("module.") ? String(entry.name.dropFirst(7)) : entry.name
            tensors[name] = entry.tensor
        }
        try load(checkpoint: tensors, file: url.lastPathComponent)
    }

    /// Loads already-read MONAI-named tensors (see `loadCheckpoint`).
    public func load(checkpoint tensors: [String: Tensor], file: String) throws {
        var tensors = tensors
        let state = stateDict()
        // Index tables follow from the configuration: check a saved one instead of loading it.
        let derived = state.filter { $0.name.hasSuffix("relative_position_index") }
        for entry in derived {
            if let saved = tensors.removeValue(forKey: entry.name),
               saved.shape != entry.tensor.shape || saved.values != entry.tensor.values {
                throw CheckpointError.inconsistentBuffer(file: file, name: entry.name)
            }
        }
        let optional = Set(derived.map(\.name) + state.map(\.name).filter { $0.contains(".norm_cross_attn.") })
        do {
            try load(tensors, optional: optional)
        } catch let mismatch as StateDictMismatch {
            throw CheckpointError.mismatch(file: file, mismatch)
        }
    }

    /// Saves every parameter and buffer under its MONAI name (integer buffers as int64).
    public func saveCheckpoint(_ url: URL, metadata: [String: String] = [:]) throws {
        let entries = stateDict().map {
            SafetensorsEntry(name: $0.name, tensor: $0.tensor, dtype: $0.isInteger ? .I64 : .F32)
        }
        try SafetensorsArchive(entries: entries, metadata: metadata).write(to: url)
    }
}
