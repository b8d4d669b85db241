import Backbones
import Foundation

/// Step measurements kept in the results folder, `RESULTS/measurements/<threads>-threads/<key>.json`, one per
/// distinct (backbone, method, step-relevant training settings, patch) and thread count. A paper-size step
/// takes a minute and most of a small machine's memory to time, so `plan` times each once; `slurm` sizes its
/// requests from the same files (measured on a compute node: `HIPPOPEFT_THREADS=N harness plan …`).
public struct StepMeasurementCache: Sendable {
    public let folder: URL

    public init(store: ResultStore) { folder = store.root.appendingPathComponent("measurements") }

    /// Bumped when the measurement itself changes, so old files are not reused.
    static let version = "step-measurement-1"

    /// Digest of what decides a step's cost. Epoch counts, validation and checkpoint settings do not, so a
    /// spec that only changes those reuses its measurements; everything else in `training:` does (batch,
    /// loss, optimizer, and any option that changes the step, such as activation checkpointing).
    public static func key(backbone: BackboneConfig, methodName: String, methodConfiguration: String,
                           training: TrainingSettings, patch: [Int]) throws -> String {
        var step = training
        (step.epochs, step.iterationsPerEpoch, step.dropLast, step.validateEvery, step.keepLast) = (1, nil, nil, 0, 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let parts = [version, String(decoding: try encoder.encode(backbone), as: UTF8.self), methodName, methodConfiguration,
                     String(decoding: try encoder.encode(step), as: UTF8.self), patch.map(String.init).joined(separator: "x")]
        return digest(parts.joined(separator: "\u{1F}"))
    }

    func threadFolder(_ threads: Int) -> URL { folder.appendingPathComponent("\(threads)-threads") }
    public func url(key: String, threads: Int) -> URL { threadFolder(threads).appendingPathComponent(key + ".json") }

    /// The measurement of `key` at `threads`, nil when there is none. A file that does not decode to a
    /// plausible measurement (a hand edit, a disk fault) is reported through `unreadable` and treated as
    /// absent, so `plan` measures again and replaces it.
    public func load(key: String, threads: Int, unreadable: (String) -> Void = { _ in }) -> StepMeasurement? {
        let file = url(key: key, threads: threads)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        guard let value = try? JSONDecoder().decode(StepMeasurement.self, from: data), value.isPlausible,
              value.threads == threads else {
            unreadable("\(file.path) is not a valid step measurement; measuring again (delete it to silence this)")
            return nil
        }
        return value
    }

    public func save(_ measurement: StepMeasurement, key: String) throws {
        try ResultStore.createFolder(threadFolder(measurement.threads))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try ResultStore.writeAtomically(try encoder.encode(measurement), to: url(key: key, threads: measurement.threads))
    }

    /// Thread counts with measurements, largest first.
    public func threadCounts() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { $0.hasSuffix("-threads") ? Int($0.dropLast("-threads".count)) : nil }
            .filter { $0 >= 1 }.sorted(by: >)
    }

    /// The thread count whose measurements cover every key: `preferred` when it does, else the largest that
    /// does (a many-core node's), nil when none does. `slurm` asks for the cores of the measurements it uses.
    public func threadsCovering(keys: [String], preferred: Int?) -> Int? {
        let covering = threadCounts().filter { threads in keys.allSatisfy { load(key: $0, threads: threads) != nil } }
        if let preferred, covering.contains(preferred) { return preferred }
        return covering.first
    }

    /// The key of each backbone × method of a spec, by `backbone.label + "\u{1F}" + method.label`.
    public static func keys(for spec: ExperimentSpec) throws -> [String: String] {
        var keys: [String: String] = [:]
        for backbone in spec.backbones {
            let patch = try backbone.config.inputSize(requested: spec.training.patchSize)
            for method in spec.methods {
                keys[backbone.label + "\u{1F}" + method.label] = try key(
                    backbone: backbone.config, methodName: method.name, methodConfiguration: method.configurationJSON,
                    training: spec.training, patch: patch)
            }
        }
        return keys
    }
}
