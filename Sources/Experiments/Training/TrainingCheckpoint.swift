import Backbones
import Foundation
import Tensors

public enum CheckpointIntegrityError: Error, CustomStringConvertible {
    case checksumMismatch(file: String)
    case missingEntry(file: String, name: String)

    public var description: String {
        switch self {
        case .checksumMismatch(let file):
            "\(file): checksum mismatch (a damaged checkpoint, or one written before checksums covered its metadata); "
                + "delete the cell's work folder; the next run retries the failed cell from scratch"
        case .missingEntry(let file, let name): "\(file): no tensor '\(name)'; it was written for another method or backbone"
        }
    }
}

/// A training checkpoint: the trainable parameters and buffers of the model (everything else is rebuilt
/// from the spec), the optimizer state, the epoch and the history. Written atomically with a checksum
/// that is verified on load.
struct TrainingCheckpoint {
    let epoch: Int
    let history: [EpochRecord]
    let best: (epoch: Int, dice: Double)?
    /// Wall time of every epoch so far, across resumed runs (nil in checkpoints written before they
    /// kept it): timing, so it stays out of `history`.
    var epochSeconds: [Double]?
    private var optimizerState: [String: Tensor] = [:]
    private var weights: [String: Tensor] = [:]
    private var optimizerSteps = 0

    init(epoch: Int, history: [EpochRecord], best: (epoch: Int, dice: Double)?) {
        (self.epoch, self.history, self.best) = (epoch, history, best)
    }

    func save(model: any Backbone, optimizer: any Optimizer, to url: URL) throws {
        var entries = Self.modelEntries(model)
        entries += optimizer.stateTensors().map { SafetensorsEntry(name: "optimizer." + $0.0, tensor: $0.1) }
        var metadata = [
            "epoch": String(epoch), "optimizer_steps": String(optimizer.stepCount),
            "history": String(decoding: try JSONEncoder().encode(history), as: UTF8.self),
        ]
        if let best { metadata["best_epoch"] = String(best.epoch); metadata["best_dice"] = String(best.dice) }
        if let epochSeconds { metadata["epoch_seconds"] = String(decoding: try JSONEncoder().encode(epochSeconds), as: UTF8.self) }
        try Self.write(entries, metadata: metadata, to: url)
    }

    /// The checkpoint at `url`, or nil when there is none yet.
    static func loadIfPresent(_ url: URL) throws -> TrainingCheckpoint? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let archive = try read(url)
        let metadata = archive.metadata
        let history = try JSONDecoder().decode([EpochRecord].self, from: Data((metadata["history"] ?? "[]").utf8))
        var best: (Int, Double)?
        if let e = metadata["best_epoch"].flatMap(Int.init), let d = metadata["best_dice"].flatMap(Double.init) { best = (e, d) }
        var checkpoint = TrainingCheckpoint(epoch: Int(metadata["epoch"] ?? "") ?? -1, history: history, best: best)
        checkpoint.optimizerSteps = Int(metadata["optimizer_steps"] ?? "") ?? 0
        checkpoint.epochSeconds = try metadata["epoch_seconds"].map { try JSONDecoder().decode([Double].self, from: Data($0.utf8)) }
        for entry in archive.entries {
            if entry.name.hasPrefix("optimizer.") {
                checkpoint.optimizerState[String(entry.name.dropFirst(10))] = entry.tensor
            } else {
                checkpoint.weights[entry.name] = entry.tensor
            }
        }
        return checkpoint
    }

    func restore(into model: any Backbone, optimizer: any Optimizer) throws {
        try Self.assign(weights, to: model, file: "last.safetensors")
        try optimizer.loadState(optimizerState)
        optimizer.stepCount = optimizerSteps
    }

    /// Trainable parameters and buffers only (for `best` and the per-epoch checkpoints).
    static func saveWeights(of model: any Backbone, to url: URL, epoch: Int) throws {
        try write(modelEntries(model), metadata: ["epoch": String(epoch)], to: url)
    }

    static func loadWeights(_ url: URL, into model: any Backbone) throws {
        let archive = try read(url)
        try assign(Dictionary(archive.entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }), to: model,
                   file: url.lastPathComponent)
    }

    private static func modelEntries(_ model: any Backbone) -> [SafetensorsEntry] {
        model.trainableParameters().map { SafetensorsEntry(name: $0.0, tensor: $0.1.value) }
            + model.namedBuffers().map { SafetensorsEntry(name: $0.0, tensor: $0.1.value, dtype: $0.1.kind == .int64 ? .I64 : .F32) }
    }

    private static func assign(_ tensors: [String: Tensor], to model: any Backbone, file: String) throws {
        for (name, parameter) in model.trainableParameters() {
            guard let value = tensors[name], value.shape == parameter.shape else {
                throw CheckpointIntegrityError.missingEntry(file: file, name: name)
            }
            parameter.assign(value)
        }
        for (name, buffer) in model.namedBuffers() {
            guard let value = tensors[name], value.shape == buffer.value.shape else {
                throw CheckpointIntegrityError.missingEntry(file: file, name: name)
            }
            buffer.value.assign(from: value)
        }
    }

    private static func write(_ entries: [SafetensorsEntry], metadata: [String: String], to url: URL) throws {
        var metadata = metadata
        metadata["checksum"] = checksum(entries, metadata: metadata)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafetensorsArchive(entries: entries, metadata: metadata).write(to: url)
    }

    private static func read(_ url: URL) throws -> SafetensorsArchive {
        let archive = try SafetensorsArchive.read(contentsOf: url)
        guard archive.metadata["checksum"] == checksum(archive.entries, metadata: archive.metadata) else {
            throw CheckpointIntegrityError.checksumMismatch(file: url.path)
        }
        return archive
    }

    /// FNV-1a over names, shapes and the bytes of every tensor, then over the metadata (sorted, the
    /// checksum itself left out): epoch, history and best Dice go into the cell record, so a damaged
    /// digit there must be caught as surely as one in a weight. Prefixed with the scheme's version.
    static func checksum(_ entries: [SafetensorsEntry], metadata: [String: String]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        for entry in entries {
            entry.name.utf8.forEach(mix)
            for d in entry.tensor.shape { withUnsafeBytes(of: UInt64(d).littleEndian) { $0.forEach(mix) } }
            UnsafeRawBufferPointer(start: entry.tensor.pointer, count: entry.tensor.count * 4).forEach(mix)
        }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != "checksum" {
            key.utf8.forEach(mix); mix(0x1F)
            value.utf8.forEach(mix); mix(0x1E)
        }
        return "2:" + String(hash, radix: 16)
    }
}
