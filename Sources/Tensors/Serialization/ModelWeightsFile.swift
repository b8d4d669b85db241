import Foundation

/// Model weights by name from either format users bring: a safetensors file, or a PyTorch
/// checkpoint (`.pth`/`.pt`, zip or legacy, its state_dict found inside the usual wrappers). A
/// DataParallel `module.` prefix is stripped in both.
public enum ModelWeightsFile {
    /// True when `url` is read as a PyTorch checkpoint: not named `.safetensors`, and starting like one.
    public static func isPyTorch(_ url: URL) -> Bool {
        url.pathExtension.lowercased() != "safetensors" && TorchCheckpoint.looksLikeCheckpoint(url)
    }

    public static func read(contentsOf url: URL) throws -> [String: Tensor] {
        if isPyTorch(url) {
            let checkpoint = try TorchCheckpoint.read(contentsOf: url)
            return try CheckpointModelTensors(checkpoint).values(in: checkpoint)
        }
        let archive = try SafetensorsArchive.read(contentsOf: url)
        var tensors: [String: Tensor] = [:]
        for entry in archive.entries {
            tensors[entry.name.hasPrefix("module.") ? String(entry.name.dropFirst(7)) : entry.name] = entry.tensor
        }
        return tensors
    }
}
