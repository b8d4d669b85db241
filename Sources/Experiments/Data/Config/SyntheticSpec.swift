import Backbones
import ConfigDecoding

/// The built-in synthetic data sets (layout `synthetic`), generated on demand and identical for the
/// same seed.
///
/// ```yaml
/// synthetic: {kind: hippocampus, style: hfh, subjects: 40, seed: 0}
/// ```
public struct SyntheticSpec: Codable, Sendable, Equatable {
    /// `hippocampus` (paired left/right seahorse-shaped structures, label 1) or `brats` (head-like
    /// volumes with a tumour-like lesion, label 1 = whole tumour).
    public enum Kind: String, NamedChoice, Sendable, Equatable { case hippocampus, brats }

    /// Default `hippocampus`.
    public var kind = Kind.hippocampus
    /// Hippocampus styles mimicking the papers' target sets: `harp` (EADC-ADNI HarP: 1 mm, T1-like,
    /// 135 subjects), `lpba40` (0.86 × 1.5 × 0.86 mm, another contrast, LAS voxel order as ANALYZE
    /// atlases, 40 subjects), `hfh` (high field: 0.8 mm, high SNR, tight field of view, 25 subjects).
    /// Default `harp`; not used by `brats`.
    public var style = HippocampusStyle.harp
    /// Number of subjects; default: the style's (harp 135, lpba40 40, hfh 25, brats 40).
    public var subjects: Int?
    /// Generator seed. Default 0.
    public var seed: UInt64 = 0
    /// Hippocampus only: label the left structure 1 and the right one 2 (default false: both 1).
    public var splitSides = false

    public init(kind: Kind = .hippocampus, style: HippocampusStyle = .harp, subjects: Int? = nil, seed: UInt64 = 0,
                splitSides: Bool = false) {
        self.kind = kind
        self.style = style
        self.subjects = subjects
        self.seed = seed
        self.splitSides = splitSides
    }

    /// The number of subjects generated.
    public var subjectCount: Int {
        if let subjects { return subjects }
        switch kind {
        case .hippocampus: return style.parameters.defaultSubjects
        case .brats: return SyntheticBraTS.defaultSubjects
        }
    }

    /// The label values the generator writes: 0 and 1, and 2 for the right side with `split_sides`.
    public var labelValues: [Int] { kind == .hippocampus && splitSides ? [0, 1, 2] : [0, 1] }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, style, subjects, seed, splitSides = "split_sides" }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.kind, \.kind), (.style, \.style), (.subjects, \.subjects), (.seed, \.seed),
                              (.splitSides, \.splitSides))
        if let subjects { try read.require(subjects > 0 && subjects <= 10_000, .subjects, "subjects must be 1 to 10000") }
        try read.require(kind == .hippocampus || !read.contains(.style), .style, "style applies to kind hippocampus only")
        try read.require(kind == .hippocampus || !splitSides, .splitSides, "split_sides applies to kind hippocampus only")
    }
}
