import Backbones
import ConfigDecoding
import Foundation
import PEFTMethods
import Tensors

/// Runs the cells of a spec into a results folder: finished cells (a `done` record exists) are skipped,
/// a changed spec reruns only the cells whose keys changed, a failed cell is recorded with its reason and
/// the sweep goes on (the next run retries it), and an interrupted cell resumes from its last epoch
/// checkpoint.
public final class SweepRunner {
    public let spec: ExperimentSpec
    public let store: ResultStore
    private var datasets: [String: Dataset] = [:]
    private var startingWeights: [String: Result<URL?, any Error>] = [:]
    private let progress: ProgressPrinter

    public init(spec: ExperimentSpec, store: ResultStore, progress: ProgressPrinter = ProgressPrinter()) {
        self.spec = spec
        self.store = store
        self.progress = progress
    }

    /// Every cell of the spec, keyed by what changes its outcome (including the starting weights).
    public func cells() throws -> [Cell] {
        try spec.cells { [self] backbone in pretrainedIdentity(backbone) }
    }

    /// Runs the cells that match `filter` and are not finished (no record, or a failed one); returns the
    /// records of all matching cells that have one.
    @discardableResult
    public func run(filter: CellFilter? = nil) throws -> [CellRecord] {
        try store.prepare()
        let selected = try cells().filter { filter?.matches($0) ?? true }
        var records: [String: CellRecord] = [:]
        var pending: [Cell] = []
        for cell in selected {
            if let record = try store.finishedRecord(cell.key) {
                records[cell.key] = record
                // Left when a run was killed between saving the record and cleaning up.
                store.removeWork(of: record)
                store.release(cell.key)
            } else {
                pending.append(cell)
            }
        }
        // Before any work: a budget a data set cannot give refuses the run (it would fail only after
        // the other cells).
        try BudgetCheck.verify(cells: pending, training: spec.training, open: dataset)
        // Pre-training stages first, so the sweep's progress and ETA describe cells only.
        var prepared = Set<String>()
        for cell in pending where prepared.insert(cell.backbone.label).inserted {
            do { _ = try weights(for: cell.backbone) } catch {
                progress.note("pre-training \(cell.backbone.label) failed: \(error); its cells will fail")
            }
        }
        progress.startSweep(total: selected.count, done: selected.count - pending.count)
        for cell in pending {
            switch try store.claimUnfinished(cell.key) {
            case .heldByAnother:
                progress.note("skipping \(cell.title): another runner holds its claim")
            case .finished(let record):
                progress.note("skipping \(cell.title): another runner finished it")
                records[cell.key] = record
            case .ours:
                defer { store.release(cell.key) }
                records[cell.key] = try execute(cell)
            }
        }
        progress.finishSweep()
        return selected.compactMap { records[$0.key] }
    }

    /// Runs one cell by its index in `cells()` (what a Slurm array task calls). A cell already done, or
    /// claimed by a live runner, is left alone; a failed one is retried.
    public func runCell(index: Int, logPath: String? = nil) throws -> CellRecord? {
        try store.prepare()
        let all = try cells()
        guard all.indices.contains(index) else {
            throw SpecError([SpecIssue(file: spec.name, path: "", message: "cell index \(index) is outside 0..<\(all.count)")])
        }
        let cell = all[index]
        if let record = try store.finishedRecord(cell.key) { return record }
        try BudgetCheck.verify(cells: [cell], training: spec.training, open: dataset)
        switch try store.claimUnfinished(cell.key) {
        case .heldByAnother: return nil
        case .finished(let record): return record
        case .ours: break
        }
        defer { store.release(cell.key) }
        progress.startSweep(total: 1, done: 0)
        defer { progress.finishSweep() }
        return try execute(cell, logPath: logPath)
    }

    /// Whether some backbone needs the pre-training stage and its weights do not exist yet.
    public func needsPretraining() -> Bool {
        spec.backbones.contains { backbone in
            guard backbone.pretrained == .pretraining else { return false }
            let output = store.pretrained.appendingPathComponent("\(backbone.label)-\(pretrainingKey(backbone)).safetensors")
            return !FileManager.default.fileExists(atPath: output.path)
        }
    }

    private func execute(_ cell: Cell, logPath: String? = nil) throws -> CellRecord {
        progress.startCell(cell)
        var record: CellRecord
        do {
            let dataset = try self.dataset(cell.dataset)
            let weights = try self.weights(for: cell.backbone)
            record = try CellExecution(spec: spec, cell: cell, store: store, dataset: dataset, startingWeights: weights,
                                       progress: { [progress] in progress.training($0) }).run()
        } catch {
            if let fault = resultsFolderFault(error) { throw fault }
            record = CellRecord(key: cell.key, spec: spec.name, backbone: cell.backbone.label, dataset: cell.dataset.name,
                                budget: cell.budget.label, method: cell.method.label, methodName: cell.method.name,
                                methodConfiguration: cell.method.configurationJSON, seed: cell.seed, version: resultsVersion,
                                status: .failed, failure: "\(error)")
        }
        if record.status == .failed { record.log = logPath }
        try store.save(record)
        store.removeWork(of: record)
        progress.finishCell(record)
        return record
    }

    public func dataset(_ spec: DatasetSpec) throws -> Dataset {
        if let cached = datasets[spec.name] { return cached }
        let opened = try Dataset(spec: spec)
        datasets[spec.name] = opened
        return opened
    }

    // MARK: starting weights

    /// What the starting weights contribute to a cell key: a digest of the weights file, or of the
    /// pre-training stage that makes them.
    private func pretrainedIdentity(_ backbone: BackboneSpec) -> String {
        switch backbone.pretrained {
        case .none: return "random"
        case .weights(let path):
            let url = spec.resolve(path)
            return "weights:" + (fileDigest(url) ?? path)
        case .pretraining:
            return "pretraining:" + pretrainingKey(backbone)
        }
    }

    private func pretrainingKey(_ backbone: BackboneSpec) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = (try? encoder.encode(backbone.config)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var outcome = spec.pretrainingStage(for: backbone)
        if let training = outcome?.training { outcome?.training = training.outcomeSettings }
        if let dataset = outcome?.dataset { outcome?.dataset = dataset.locationFree }
        let stage = (try? encoder.encode(outcome)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return digest([resultsVersion, config, stage].joined(separator: "\u{1F}"))
    }

    /// The starting weights of a backbone, running the pre-training stage once if needed.
    /// A failed pre-training is remembered, so its cells fail with the reason instead of retrying it.
    public func weights(for backbone: BackboneSpec) throws -> URL? {
        if let known = startingWeights[backbone.label] { return try known.get() }
        let result = Result<URL?, any Error> {
            switch backbone.pretrained {
            case .none: return nil
            case .weights(let path): return spec.resolve(path)
            case .pretraining: return try pretrain(backbone)
            }
        }
        startingWeights[backbone.label] = result
        return try result.get()
    }

    private func pretrain(_ backbone: BackboneSpec) throws -> URL {
        guard let stage = spec.pretrainingStage(for: backbone) else {
            throw SpecError([SpecIssue(file: spec.name, path: "pretraining", message: "no pretraining stage in the spec")])
        }
        let key = pretrainingKey(backbone)
        let output = store.pretrained.appendingPathComponent("\(backbone.label)-\(key).safetensors")
        if FileManager.default.fileExists(atPath: output.path) { return output }
        try store.prepare()
        while try !store.claim("pretrain-" + key) {
            // Another runner is pre-training this backbone: wait for its weights.
            if FileManager.default.fileExists(atPath: output.path) { return output }
            progress.note("waiting for another runner to finish pre-training \(backbone.label)")
            Thread.sleep(forTimeInterval: 10)
        }
        defer { store.release("pretrain-" + key) }
        if FileManager.default.fileExists(atPath: output.path) { return output }
        progress.startStage("pre-training \(backbone.label) on \(stage.dataset.name)")
        try PretrainingStage(stage: stage, backbone: backbone).run(
            dataset: try self.dataset(stage.dataset), output: output,
            folder: store.work.appendingPathComponent("pretrain-\(key)"), progress: progress)
        try? FileManager.default.removeItem(at: store.work.appendingPathComponent("pretrain-\(key)"))
        progress.finishStage()
        return output
    }
}

/// A content digest of a file, read in chunks (nil when unreadable).
func fileDigest(_ url: URL) -> String? {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
    defer { try? handle.close() }
    var a: UInt64 = 0xCBF2_9CE4_8422_2325
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        for byte in chunk { a = (a ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
    return String(a, radix: 16)
}
