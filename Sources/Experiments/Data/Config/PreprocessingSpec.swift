import Backbones
import ConfigDecoding

/// How each case is prepared before training and inference, in this order: orientation, resampling,
/// percentile clipping, intensity normalisation, fixed box, crop, pad. All sizes are in NIfTI axis
/// order (i, j, k) of the volume *after* reorientation (for RAS: i → Right, j → Anterior, k → Superior).
///
/// ```yaml
/// preprocessing: {normalize: zscore_nonzero, clip_percentiles: null, spacing: null, orientation: RAS,
///                 crop_to: null, pad_to: null, box: null}
/// ```
public struct PreprocessingSpec: Codable, Sendable, Equatable {
    /// Intensity normalisation (default `zscore_nonzero`, the papers'):
    /// - `zscore_nonzero`: mean and standard deviation over the voxels > 0; those voxels become
    ///   (v − mean) / std, every other voxel 0 (background stays 0; MONAI `NormalizeIntensity(nonzero=True)`).
    /// - `zscore`: over all voxels.
    /// - `minmax`: to [0, 1] (after clipping, if any).
    /// - `none`: intensities as stored (after `scl_slope`/`scl_inter`).
    /// A standard deviation (or range) of 0 divides by 1.
    public enum Normalization: String, NamedChoice, Sendable, Equatable {
        case zscoreNonzero = "zscore_nonzero", zscore, minmax, none
    }

    /// A fixed window cut from every case (padded where it leaves the volume): either voxel indices
    /// `{start: [i, j, k], size: [i, j, k]}`, or a world box in millimetres `{world_min: [x, y, z],
    /// world_max: [x, y, z]}` (the RAS+ coordinates of the file's affine, e.g. an MNI box around both
    /// hippocampi for MNI-registered data).
    public enum Box: Codable, Sendable, Equatable {
        case voxels(start: [Int], size: [Int])
        case world(min: [Double], max: [Double])

        enum CodingKeys: String, CodingKey, CaseIterable {
            case start, size, worldMin = "world_min", worldMax = "world_max"
        }

        public init(from decoder: any Decoder) throws {
            let read = try OptionsReader<CodingKeys>(decoder)
            if read.contains(.start) || read.contains(.size) {
                try read.require(!read.contains(.worldMin) && !read.contains(.worldMax), .start,
                                 "give either start + size (voxels) or world_min + world_max (mm), not both")
                let start: [Int] = try read.required(.start)
                let size: [Int] = try read.required(.size)
                try read.require(start.count == 3, .start, "start needs 3 indices (i, j, k)")
                try read.require(size.count == 3 && size.allSatisfy { (1...PreprocessingSpec.maxSize).contains($0) }, .size,
                                 "size needs 3 sizes (i, j, k) of 1 to \(PreprocessingSpec.maxSize)")
                self = .voxels(start: start, size: size)
            } else {
                let low: [Double] = try read.required(.worldMin)
                let high: [Double] = try read.required(.worldMax)
                try read.require(low.count == 3, .worldMin, "world_min needs 3 coordinates (x, y, z) in mm")
                try read.require(high.count == 3 && zip(low, high).allSatisfy { $0 < $1 }, .worldMax,
                                 "world_max needs 3 coordinates, each larger than world_min's")
                self = .world(min: low, max: high)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .voxels(let start, let size):
                try container.encode(start, forKey: .start)
                try container.encode(size, forKey: .size)
            case .world(let low, let high):
                try container.encode(low, forKey: .worldMin)
                try container.encode(high, forKey: .worldMax)
            }
        }
    }

    /// Default `zscore_nonzero`.
    public var normalize = Normalization.zscoreNonzero
    /// `[low, high]` percentiles (0–100, e.g. `[0.5, 99.5]`) computed over the voxels the normalisation
    /// uses; intensities are clipped to them before normalising. Default null: no clipping.
    public var clipPercentiles: [Double]?
    /// Target voxel size in mm, (i, j, k) after reorientation: images are resampled trilinearly,
    /// labels by nearest neighbour; the first voxel's centre stays in place and each axis gets
    /// round(n · old / new) voxels. Default null: keep the file's spacing.
    public var spacing: [Double]?
    /// Voxel axis directions to bring every case to (nibabel axis codes: `RAS`, `LPS`, `LAS`, ...), by
    /// axis permutations and flips read from the affine (no interpolation). `keep` (or null) leaves
    /// the file's voxel order. Default `RAS`.
    public var orientation: String? = "RAS"
    /// Centre-crop every axis longer than this (i, j, k). Default null.
    public var cropTo: [Int]?
    /// Pad every axis shorter than this (i, j, k), centred: images with their background value (0 after
    /// `zscore_nonzero`/`minmax`, else their minimum), labels with 0. Default null.
    public var padTo: [Int]?
    /// A fixed box cut from every case before `crop_to`/`pad_to`. Default null.
    public var box: Box?

    public init(
        normalize: Normalization = .zscoreNonzero, clipPercentiles: [Double]? = nil, spacing: [Double]? = nil,
        orientation: String? = "RAS", cropTo: [Int]? = nil, padTo: [Int]? = nil, box: Box? = nil
    ) {
        self.normalize = normalize
        self.clipPercentiles = clipPercentiles
        self.spacing = spacing
        self.orientation = orientation
        self.cropTo = cropTo
        self.padTo = padTo
        self.box = box
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case normalize, clipPercentiles = "clip_percentiles", spacing, orientation, cropTo = "crop_to"
        case padTo = "pad_to", box
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.normalize, \.normalize), (.clipPercentiles, \.clipPercentiles), (.spacing, \.spacing))
        // An explicit null means "keep", like `keep`; only a missing key gets the RAS default.
        let raw = try decoder.container(keyedBy: CodingKeys.self)
        if raw.contains(.orientation), try raw.decodeNil(forKey: .orientation) {
            orientation = nil
        } else {
            let text: String = try read(.orientation, "RAS")
            orientation = text.lowercased() == "keep" ? nil : text.uppercased()
        }
        try read(into: &self, (.cropTo, \.cropTo), (.padTo, \.padTo), (.box, \.box))

        if let clip = clipPercentiles {
            try read.require(clip.count == 2 && 0 <= clip[0] && clip[0] < clip[1] && clip[1] <= 100, .clipPercentiles,
                             "clip_percentiles needs [low, high] with 0 ≤ low < high ≤ 100, got \(clip)")
        }
        if let spacing {
            try read.require(spacing.count == 3 && spacing.allSatisfy { $0 > 0 && $0.isFinite }, .spacing,
                             "spacing needs 3 positive sizes in mm (i, j, k), got \(spacing)")
        }
        if let orientation {
            try read.require(Self.isAxisCode(orientation), .orientation,
                             "orientation '\(orientation)' must be 3 letters, one of R/L, A/P, S/I each (e.g. RAS, LPS), or keep")
        }
        for (key, size) in [(CodingKeys.cropTo, cropTo), (.padTo, padTo)] {
            if let size {
                try read.require(size.count == 3 && size.allSatisfy { (1...Self.maxSize).contains($0) }, key,
                                 "\(key.rawValue) needs 3 sizes (i, j, k) of 1 to \(Self.maxSize), got \(size)")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(normalize, forKey: .normalize)
        try container.encode(clipPercentiles, forKey: .clipPercentiles)
        try container.encode(spacing, forKey: .spacing)
        try container.encode(orientation ?? "keep", forKey: .orientation)
        try container.encode(cropTo, forKey: .cropTo)
        try container.encode(padTo, forKey: .padTo)
        try container.encode(box, forKey: .box)
    }

    /// Largest size along one axis that `crop_to`, `pad_to` and `box` accept.
    public static let maxSize = 4096

    /// Three letters naming each world axis once (R/L, A/P, S/I), as nibabel's axis codes.
    public static func isAxisCode(_ code: String) -> Bool {
        let letters = Array(code.uppercased())
        guard letters.count == 3 else { return false }
        let axes = letters.compactMap { letter -> Int? in
            switch letter {
            case "R", "L": return 0
            case "A", "P": return 1
            case "S", "I": return 2
            default: return nil
            }
        }
        return Set(axes).count == 3
    }
}
