/// Where one case's voxels come from.
public enum CaseSource: Codable, Sendable, Equatable {
    /// Image and label files (absolute or root-relative paths as resolved by the scan).
    case files(image: String, label: String)
    /// A built-in synthetic subject (`index` within the data set's generator).
    case synthetic(SyntheticSpec, index: Int)
}

/// One usable case found by a scan.
public struct CaseEntry: Codable, Sendable, Equatable {
    /// Unique within its data set (MSD: the image file name without extension, e.g. `hippocampus_001`).
    public var id: String
    public var source: CaseSource

    public init(id: String, source: CaseSource) {
        self.id = id
        self.source = source
    }

    /// The image path, or a description of the synthetic subject.
    public var imageDescription: String {
        switch source {
        case .files(let image, _): return image
        case .synthetic(let spec, let index): return "synthetic \(spec.kind.rawValue) \(spec.kind == .hippocampus ? spec.style.rawValue + " " : "")subject \(index)"
        }
    }
}

/// A file the scan did not use, and why.
public struct SkippedFile: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Path relative to the data root where possible (`imagesTr/.DS_Store`).
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// What a data set holds, found without reading voxels: usable cases (sorted by id), files skipped with
/// their reasons, excluded ids, and the split each list file assigned.
public struct DatasetScan: Codable, Sendable, Equatable {
    public var dataset: String
    public var cases: [CaseEntry]
    public var skipped: [SkippedFile]
    /// Ids dropped by the spec's `exclude:` (they were found).
    public var excluded: [String]
    /// Things worth knowing that are not errors (an `exclude` id that was not found, ...).
    public var warnings: [String]
    /// Case ids named by list files, per split, in file order (nil where no list file was given).
    public var listed: ListedSplits

    public struct ListedSplits: Codable, Sendable, Equatable {
        public var train: [String]?
        public var validation: [String]?
        public var test: [String]?

        public init(train: [String]? = nil, validation: [String]? = nil, test: [String]? = nil) {
            (self.train, self.validation, self.test) = (train, validation, test)
        }
    }

    public init(dataset: String, cases: [CaseEntry], skipped: [SkippedFile] = [], excluded: [String] = [],
                warnings: [String] = [], listed: ListedSplits = ListedSplits()) {
        self.dataset = dataset
        self.cases = cases
        self.skipped = skipped
        self.excluded = excluded
        self.warnings = warnings
        self.listed = listed
    }

    public var caseIDs: [String] { cases.map(\.id) }

    public func entry(_ id: String) -> CaseEntry? { cases.first { $0.id == id } }
}
