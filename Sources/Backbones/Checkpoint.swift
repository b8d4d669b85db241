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
    /// Loads MONAI-named weights from a safetensors file or a PyTorch checkpoint (`.pth`/`.pt`, its
    /// state_dict found inside `{'state_dict': …}` and the like), strictly: every missing, unexpected and
    /// mis-shaped key is listed. Accepted on top of MONAI 1.6's own state_dict: a `module.` prefix
    /// (DataParallel), and checkpoints from MONAI < 1.4, which lack the unused `norm_cross_attn` layers.
    /// Returns the names the checkpoint lacked and that were left at their initialisation because the
    /// forward pass never uses them.
    @discardableResult
    public func loadCheckpoint(_ url: URL) throws -> [String] {
        try load(checkpoint: try ModelWeightsFile.read(contentsOf: url), file: url.lastPathComponent)
    }

    /// Loads already-read MONAI-named tensors (see `loadCheckpoint`); returns the unused names left at
    /// their initialisation.
    @discardableResult
    public func load(checkpoint tensors: [String: Tensor], file: String, alsoOptional: Set<String> = []) throws -> [String] {
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
        // What the forward pass never reads (MONAI ≥ 1.4's norm_cross_attn) may be absent: MONAI 1.3 had none.
        let unused = try ParameterUse.of(config).unused
        do {
            try load(tensors, optional: Set(derived.map(\.name)).union(unused).union(alsoOptional))
        } catch let mismatch as StateDictMismatch {
            throw CheckpointError.mismatch(file: file, mismatch)
        }
        return state.map(\.name).filter { unused.contains($0) && tensors[$0] == nil }
    }

    /// Saves every parameter and buffer under its MONAI name (integer buffers as int64).
    public func saveCheckpoint(_ url: URL, metadata: [String: String] = [:]) throws {
        let entries = stateDict().map {
            SafetensorsEntry(name: $0.name, tensor: $0.tensor, dtype: $0.isInteger ? .I64 : .F32)
        }
        try SafetensorsArchive(entries: entries, metadata: metadata).write(to: url)
    }
}
