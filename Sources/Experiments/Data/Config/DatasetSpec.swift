import Backbones
import ConfigDecoding

/// One data set as users write it in a spec's `datasets:` list.
///
/// ```yaml
/// - name: msd
///   layout: msd
///   root: ${HIPPOPEFT_DATA}/msd-hippocampus
///   label_map: {1: 1, 2: 1}
///   split: {validation: 5, test: 20, seed: 0}
/// ```
/// Every key but `name` and `layout` is optional; unknown keys are rejected with a suggestion.
public struct DatasetSpec: Codable, Sendable, Equatable {
    /// Where the cases come from:
    /// - `msd`: a Medical Segmentation Decathlon folder: `dataset.json` listing `training` pairs under
    ///   `imagesTr/` and `labelsTr/`. Files present but not listed, and junk (`.DS_Store`), are reported
    ///   as skipped.
    /// - `list`: the papers' EADC-HarP layout: `ROOT/subN/subN_img.nii.gz` + `subN_mask.nii.gz`, with list
    ///   files (`lists:`) naming the cases of each split, one id per line.
    /// - `pairs`: image and label glob patterns (`images:`, `labels:`); the case id is the part of the
    ///   file name the wildcards matched, so `imagesTr/*_img.nii.gz` and `labelsTr/*_mask.nii.gz` pair up
    ///   `sub1_img.nii.gz` with `sub1_mask.nii.gz` as case `sub1`.
    /// - `analyze`: like `pairs`, for ANALYZE 7.5 `.hdr`/`.img` atlases (LPBA40); needs a `label_map`.
    /// - `synthetic`: built-in generated data (`synthetic:`); no `root`.
    public enum Layout: String, NamedChoice, Sendable, Equatable { case msd, list, pairs, analyze, synthetic }

    /// Unique name, used in tables and cell keys: letters, digits, `.`, `_`, `-`.
    public var name: String
    /// See `Layout`.
    public var layout: Layout
    /// The data folder (required except for `synthetic`). The spec loader expands `${VAR}` first.
    /// Not part of a cell's key (see `locationFree`).
    public var root: String?
    /// `pairs`/`analyze`: glob pattern of the images, relative to `root` (`*`, `?`, `[...]` within one
    /// path component). `list`: template of a case's image path with `{id}` (the list line's last path
    /// component) and `{path}` (the line as written); default `{path}/{id}_img.nii.gz`. `analyze`
    /// default: `*/*.native.mri.hdr` (LPBA40 native space). Not used by `msd`.
    public var images: String?
    /// Like `images`, for the labels. `list` default `{path}/{id}_mask.nii.gz`; `analyze` default
    /// `*/*.native.label.hdr`.
    public var labels: String?
    /// List files relative to `root`, one case per line (blank lines and `#` comments ignored):
    /// `{train: train.txt, validation: valid.txt, test: test.txt}`. Required by `list` (at least one);
    /// with other layouts they assign scanned cases to splits. A split with a list file takes exactly
    /// those cases; the others are drawn from the remaining cases as `split` says.
    public var lists: ListFiles?
    /// Case ids to drop (reported as excluded), e.g. EADC subjects whose labels do not match.
    public var exclude: [String] = []
    /// Accept `dataset.json`, list and glob entries that point outside `root` (`../`, absolute paths).
    /// Default false: such entries are refused with an error.
    public var allowOutsideRoot = false
    /// Source label value → class; see `LabelMap`. Default: none (labels used as they are).
    public var labelMap: LabelMap?
    /// See `PreprocessingSpec`. Default: `zscore_nonzero`, RAS, no resampling, no cropping.
    public var preprocessing = PreprocessingSpec()
    /// See `SplitSpec`. Default: validation 0.1, test 0.2 of the usable cases, seed 0.
    public var split = SplitSpec()
    /// Layout `synthetic` only (required there); see `SyntheticSpec`.
    public var synthetic: SyntheticSpec?
    /// Training budgets of this data set, replacing the spec's `budgets:` (a small set asks only what
    /// its training pool can give). Default: none (the spec's list).
    public var budgets: [Budget]?

    /// `lists:` of a data set.
    public struct ListFiles: Codable, Sendable, Equatable {
        /// Training pool (its order is still the seeded budget order, not the file's).
        public var train: String?
        public var validation: String?
        public var test: String?

        public init(train: String? = nil, validation: String? = nil, test: String? = nil) {
            (self.train, self.validation, self.test) = (train, validation, test)
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case train, validation, test }

        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            try read(into: &self, (.train, \.train), (.validation, \.validation), (.test, \.test))
            try read.require(train != nil || validation != nil || test != nil, .train,
                             "lists needs at least one of train, validation, test")
        }
    }

    public init(
        name: String, layout: Layout, root: String? = nil, images: String? = nil, labels: String? = nil,
        lists: ListFiles? = nil, exclude: [String] = [], allowOutsideRoot: Bool = false, labelMap: LabelMap? = nil,
        preprocessing: PreprocessingSpec = PreprocessingSpec(), split: SplitSpec = SplitSpec(),
        synthetic: SyntheticSpec? = nil, budgets: [Budget]? = nil
    ) {
        self.name = name
        self.layout = layout
        self.root = root
        self.images = images
        self.labels = labels
        self.lists = lists
        self.exclude = exclude
        self.allowOutsideRoot = allowOutsideRoot
        self.labelMap = labelMap
        self.preprocessing = preprocessing
        self.split = split
        self.synthetic = synthetic
        self.budgets = budgets
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, layout, root, images, labels, lists, exclude, allowOutsideRoot = "allow_outside_root"
        case labelMap = "label_map", preprocessing, split, synthetic, budgets
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        name = try read.required(.name)
        layout = try read.required(.layout)
        try read(into: &self, (.root, \.root), (.images, \.images), (.labels, \.labels), (.lists, \.lists),
                              (.exclude, \.exclude), (.allowOutsideRoot, \.allowOutsideRoot), (.labelMap, \.labelMap),
                              (.preprocessing, \.preprocessing), (.split, \.split), (.synthetic, \.synthetic),
                              (.budgets, \.budgets))

        try read.require(budgets.map { !$0.isEmpty } ?? true, .budgets, "list at least one budget, or leave `budgets` out")
        try read.require(Self.isValidName(name), .name,
                         "name '\(name)' must be \(SafeName.rule) (it names tables and cell keys)")
        switch layout {
        case .synthetic:
            try read.require(synthetic != nil, .synthetic, "layout synthetic needs a `synthetic:` block, e.g. {kind: hippocampus, style: harp}")
            for key in [CodingKeys.root, .images, .labels, .lists] {
                try read.require(!read.contains(key), key, "\(key.rawValue) does not apply to layout synthetic")
            }
        default:
            try read.require(root != nil, .root, "layout \(layout.rawValue) needs `root:` (the data folder)")
            try read.require(synthetic == nil, .synthetic, "`synthetic:` applies to layout synthetic only")
        }
        switch layout {
        case .msd:
            try read.require(images == nil && labels == nil, .images, "layout msd reads dataset.json; images/labels do not apply")
        case .pairs:
            try read.require(images != nil && labels != nil, images == nil ? .images : .labels,
                             "layout pairs needs `images:` and `labels:` glob patterns, e.g. \"imagesTr/*.nii.gz\"")
        case .list:
            try read.require(lists != nil, .lists, "layout list needs `lists:`, e.g. {train: train.txt, validation: valid.txt, test: test.txt}")
        case .analyze:
            try read.require(labelMap != nil, .labelMap,
                             "layout analyze needs `label_map:` for the atlas codes, e.g. {select: [165, 166]}")
        case .synthetic:
            break
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self, (.name, \.name), (.layout, \.layout), (.exclude, \.exclude),
                             (.allowOutsideRoot, \.allowOutsideRoot), (.preprocessing, \.preprocessing), (.split, \.split))
        // Optional settings are absent when not given, so the cell keys of specs without them are unchanged.
        try container.encodeIfPresent(self, (.root, \.root), (.images, \.images), (.labels, \.labels), (.lists, \.lists),
                                      (.labelMap, \.labelMap), (.synthetic, \.synthetic), (.budgets, \.budgets))
    }

    static func isValidName(_ name: String) -> Bool { SafeName.isValid(name) }

    /// The image pattern or template in effect (layout defaults filled in).
    var effectiveImages: String? {
        switch layout {
        case .list: return images ?? "{path}/{id}_img.nii.gz"
        case .analyze: return images ?? "*/*.native.mri.hdr"
        default: return images
        }
    }

    /// The label pattern or template in effect (layout defaults filled in).
    var effectiveLabels: String? {
        switch layout {
        case .list: return labels ?? "{path}/{id}_mask.nii.gz"
        case .analyze: return labels ?? "*/*.native.label.hdr"
        default: return labels
        }
    }
}

extension DatasetSpec {
    /// The data set as a cell key sees it: everything but where its folder lies, so finished cells stay
    /// finished when the data moves (another machine, a cluster's scratch, a CI checkout). A data set whose
    /// content changed needs a new name or a new results folder.
    var locationFree: DatasetSpec {
        var spec = self
        spec.root = nil
        return spec
    }
}
