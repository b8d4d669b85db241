import Foundation

/// Finds a data set's cases without reading voxels (file names, dataset.json, list files only).
public enum DatasetScanner {
    /// Usable cases sorted by id, skipped files with reasons, excluded ids, list-file splits. Throws
    /// `DataError` for a missing root or index, an entry outside the root, duplicate ids, or a list id
    /// the data set does not hold. Zero usable cases is not an error here (see `Dataset`).
    public static func scan(_ spec: DatasetSpec) throws -> DatasetScan {
        if spec.layout == .synthetic {
            guard let synthetic = spec.synthetic else {
                throw DataError.invalidSpec(dataset: spec.name, field: "synthetic", reason: "layout synthetic needs a synthetic: block")
            }
            let cases = (0..<synthetic.subjectCount).map {
                CaseEntry(id: SyntheticData.caseID(synthetic, index: $0), source: .synthetic(synthetic, index: $0))
            }
            return finish(spec, cases: cases, skipped: [], warnings: [], lists: nil)
        }
        guard let rootText = spec.root else {
            throw DataError.invalidSpec(dataset: spec.name, field: "root", reason: "layout \(spec.layout.rawValue) needs root:")
        }
        let root = try DataRoot(dataset: spec.name, root: rootText, allowOutside: spec.allowOutsideRoot)
        let lists = try ListFilesContent.read(spec, root: root)
        var cases: [CaseEntry]
        var skipped: [SkippedFile]
        var warnings: [String] = []
        switch spec.layout {
        case .msd:
            (cases, skipped) = try MSDLayout.scan(spec, root: root)
        case .list:
            guard let lists else {
                throw DataError.invalidSpec(dataset: spec.name, field: "lists", reason: "layout list needs list files")
            }
            (cases, skipped) = try ListLayout.scan(spec, root: root, lists: lists)
        case .pairs, .analyze:
            (cases, skipped, warnings) = try PairsLayout.scan(spec, root: root)
        case .synthetic:
            (cases, skipped) = ([], [])   // returned above
        }
        var seen: [String: CaseEntry] = [:]
        for entry in cases {
            if let first = seen[entry.id] {
                throw DataError.duplicateCase(
                    dataset: spec.name, id: entry.id, first: first.imageDescription, second: entry.imageDescription)
            }
            seen[entry.id] = entry
        }
        let scan = finish(spec, cases: cases, skipped: skipped, warnings: warnings, lists: lists)
        try checkListed(spec, scan: scan, lists: lists, skippedIDs: Set(skippedIDs(spec, lists: lists, usable: cases)))
        return scan
    }

    private static func finish(
        _ spec: DatasetSpec, cases: [CaseEntry], skipped: [SkippedFile], warnings: [String], lists: ListFilesContent?
    ) -> DatasetScan {
        let exclude = Set(spec.exclude)
        let found = Set(cases.map(\.id))
        var warnings = warnings
        for id in spec.exclude where !found.contains(id) {
            warnings.append("exclude names '\(id)', which is not among the usable cases")
        }
        let kept = cases.filter { !exclude.contains($0.id) }.sorted { $0.id < $1.id }
        let usable = Set(kept.map(\.id))
        func listed(_ lines: [ListLine]?) -> [String]? {
            lines.map { $0.map(\.id).filter(usable.contains) }
        }
        return DatasetScan(
            dataset: spec.name, cases: kept, skipped: skipped,
            excluded: spec.exclude.filter(found.contains), warnings: warnings,
            listed: .init(train: listed(lists?.train), validation: listed(lists?.validation), test: listed(lists?.test)))
    }

    /// List ids that are not usable because their files were skipped (list layout only).
    private static func skippedIDs(_ spec: DatasetSpec, lists: ListFilesContent?, usable: [CaseEntry]) -> [String] {
        guard spec.layout == .list, let lists else { return [] }
        let ids = Set(usable.map(\.id))
        return lists.all.map(\.id).filter { !ids.contains($0) }
    }

    /// With layouts other than `list`, every list line must name a scanned case (or an excluded one).
    private static func checkListed(_ spec: DatasetSpec, scan: DatasetScan, lists: ListFilesContent?,
                                    skippedIDs: Set<String>) throws {
        guard let lists else { return }
        let known = Set(scan.caseIDs).union(scan.excluded).union(skippedIDs)
        for line in lists.all where !known.contains(line.id) {
            throw DataError.unknownCase(dataset: spec.name, id: line.id, source: line.location)
        }
    }
}
