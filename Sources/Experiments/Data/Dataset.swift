import Dispatch
import Foundation
import Synchronization
import Tensors
import Volumes

/// A data set opened for a run: its scan, its splits, and its prepared cases, cached in memory for the
/// life of the object (200 MSD cases take about 100 MB). Safe to share between tasks.
public final class Dataset: Sendable {
    public let spec: DatasetSpec
    public let scan: DatasetScan
    public let splits: DatasetSplits
    private let cache = Mutex<[String: PreparedCase]>([:])

    /// Scans the data set and splits it. Throws `DataError` (missing root, refused entry, no usable
    /// case, a split that leaves nothing to train on, ...).
    public convenience init(spec: DatasetSpec) throws {
        try self.init(spec: spec, scan: DatasetScanner.scan(spec))
    }

    public init(spec: DatasetSpec, scan: DatasetScan) throws {
        guard !scan.cases.isEmpty else {
            throw DataError.noCases(dataset: spec.name, hint: Self.hint(spec, scan))
        }
        self.spec = spec
        self.scan = scan
        splits = try DatasetSplits(scan: scan, split: spec.split)
    }

    public var name: String { spec.name }
    public var caseIDs: [String] { scan.caseIDs }

    /// The case ids of a training budget (nested, identical for every method and run seed).
    public func training(_ budget: Budget) throws -> [String] { try splits.training(budget) }

    /// A case's image and label as stored (synthetic ones generated), not preprocessed.
    public func raw(_ id: String) throws -> (image: Volume, label: Volume) {
        guard let entry = scan.entry(id) else { throw DataError.unknownCase(dataset: name, id: id, source: "a request") }
        return try Self.load(entry, dataset: name)
    }

    static func load(_ entry: CaseEntry, dataset: String) throws -> (image: Volume, label: Volume) {
        switch entry.source {
        case .files(let image, let label):
            do {
                // Headers first: a pair that cannot match, or that would not fit in memory, is refused
                // before a voxel is decoded. Each of the workers preparing cases in parallel gets a share.
                let imageHeader = try NIfTI.readHeader(path: image), labelHeader = try NIfTI.readHeader(path: label)
                try checkSameGrid(image: imageHeader, label: labelHeader)
                let share = MemoryBudget.affordableBytes() / max(1, Parallel.workers)
                try imageHeader.requireFits(share, what: "reading and preparing this case",
                                            bytes: imageHeader.voxelCount * bytesPerCaseVoxel + imageHeader.decodedBytes)
                return (try NIfTI.read(path: image, memoryLimit: share), try NIfTI.read(path: label, memoryLimit: share))
            } catch let error as VolumeError {
                throw DataError.caseFailed(dataset: dataset, caseID: entry.id, reason: error.description)
            }
        case .synthetic(let spec, let index):
            let generated = try SyntheticData.generate(spec, index: index)
            return (generated.image, generated.label)
        }
    }

    /// Memory a case takes per voxel while it is read and prepared: the label's Float32 voxels, its
    /// integer and class copies, and the preprocessing grids (image and label, twice while resampling).
    static let bytesPerCaseVoxel = 28

    /// The prepared case (read, checked and preprocessed once, then served from memory).
    public func prepared(_ id: String) throws -> PreparedCase {
        if let hit = cache.withLock({ $0[id] }) { return hit }
        let (image, label) = try raw(id)
        let prepared = try CasePreparation.prepare(
            image: image, label: label, id: id, dataset: name, labelMap: spec.labelMap, preprocessing: spec.preprocessing)
        cache.withLock { $0[id] = prepared }
        return prepared
    }

    /// Prepared cases in the order asked, read and preprocessed in parallel on `Parallel.workers`
    /// threads. The first failing case (in that order) is thrown.
    public func prepared(_ ids: [String]) throws -> [PreparedCase] {
        try parallelMap(ids) { try self.prepared($0) }
    }

    /// Every usable case, prepared.
    public func preparedAll() throws -> [PreparedCase] { try prepared(caseIDs) }

    private static func hint(_ spec: DatasetSpec, _ scan: DatasetScan) -> String {
        let skips = scan.skipped.isEmpty ? "" : " (\(scan.skipped.count) file(s) skipped, e.g. \(scan.skipped[0]))"
        switch spec.layout {
        case .msd: return "check dataset.json's training list and the imagesTr/labelsTr folders\(skips)"
        case .list: return "check the list files and the images/labels templates\(skips)"
        case .pairs, .analyze:
            return "check the images/labels patterns '\(spec.effectiveImages ?? "")' and '\(spec.effectiveLabels ?? "")'\(skips)"
        case .synthetic: return "synthetic.subjects must be at least 1"
        }
    }
}
