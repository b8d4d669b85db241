import Backbones
import ConfigDecoding

/// Training patches and their augmentation (MONAI `RandCropByPosNegLabel` / nnU-Net oversampling,
/// `RandFlip`, `RandScaleIntensity`, `RandStdShiftIntensity`), or the authors' uniform crops and
/// per-slice intensity draw (`crops: uniform`, `intensity_draw: j_slices`).
///
/// ```yaml
/// augmentation: {patch_size: [48, 48, 48], batch_size: 2, foreground_ratio: 0.5, flip_probability: 0.5,
///                flip_axes: [0, 1, 2], intensity_scale: [0.9, 1.1], intensity_shift: 0.1, intensity_probability: 1.0}
/// ```
public struct AugmentationOptions: Codable, Sendable, Equatable {
    /// Where a crop that is not centred on foreground is cut.
    public enum CropPlacement: String, NamedChoice, Sendable {
        /// MONAI's `RandCropByPosNegLabel`: a random centre voxel, the window shifted inside the volume
        /// (so positions near the edges are drawn more often).
        case centred
        /// The authors' crop: a start drawn uniformly over every position where the window fits
        /// (`random.randint(0, size - patch)` per axis), so every position is equally likely.
        case uniform
    }

    /// How the intensity scale and shift are drawn.
    public enum IntensityDraw: String, NamedChoice, Sendable {
        /// One scale and one shift per crop, the shift × the case's intensity SD (MONAI's
        /// `RandScaleIntensity` + `RandStdShiftIntensity`).
        case crop
        /// The authors' `transform`: a scale and an absolute shift drawn for every index of the NIfTI j
        /// axis (a [1, patch_j, 1, 1] draw), applied to the whole crop, background too.
        case jSlices = "j_slices"
    }

    /// Patch size (i, j, k). Cases smaller than this are padded (image with its background, label 0).
    /// Default [48, 48, 48].
    public var patchSize = [48, 48, 48]
    /// Patches per batch. Default 2.
    public var batchSize = 2
    /// Probability that a patch is centred on a random foreground voxel (label > 0); otherwise its centre
    /// is a random voxel of the case. Cases without foreground always get a random centre. Default 0.5.
    public var foregroundRatio = 0.5
    /// Probability of flipping each axis in `flip_axes`, drawn per axis and patch. Default 0.5.
    public var flipProbability = 0.5
    /// NIfTI axes (0 = i, 1 = j, 2 = k) that may be flipped. Default all three.
    public var flipAxes = [0, 1, 2]
    /// Intensities are multiplied by a factor uniform in this range (the papers' 0.9–1.1). Default [0.9, 1.1].
    public var intensityScale = [0.9, 1.1]
    /// Intensities are shifted by u · case std with u uniform in ±this (the papers' ±0.1). Default 0.1.
    public var intensityShift = 0.1
    /// Probability of applying the scale and (independently) the shift to a patch. Default 1.
    public var intensityProbability = 1.0
    /// Default centred.
    public var crops = CropPlacement.centred
    /// Default crop.
    public var intensityDraw = IntensityDraw.crop

    public init(patchSize: [Int] = [48, 48, 48], batchSize: Int = 2, foregroundRatio: Double = 0.5) {
        self.patchSize = patchSize
        self.batchSize = batchSize
        self.foregroundRatio = foregroundRatio
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case patchSize = "patch_size", batchSize = "batch_size", foregroundRatio = "foreground_ratio"
        case flipProbability = "flip_probability", flipAxes = "flip_axes", intensityScale = "intensity_scale"
        case intensityShift = "intensity_shift", intensityProbability = "intensity_probability"
        case crops, intensityDraw = "intensity_draw"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        if let single = try? read(.patchSize, Int?.none) {
            patchSize = [single, single, single]
        } else {
            patchSize = try read(.patchSize, patchSize)
        }
        try read(into: &self, (.batchSize, \.batchSize), (.foregroundRatio, \.foregroundRatio),
                              (.flipProbability, \.flipProbability), (.flipAxes, \.flipAxes),
                              (.intensityScale, \.intensityScale), (.intensityShift, \.intensityShift),
                              (.intensityProbability, \.intensityProbability), (.crops, \.crops),
                              (.intensityDraw, \.intensityDraw))
        try read.require(patchSize.count == 3 && patchSize.allSatisfy { (1...1024).contains($0) }, .patchSize,
                         "patch_size needs 3 sizes (i, j, k) of 1 to 1024, or one number, got \(patchSize)")
        try read.require((1...1024).contains(batchSize), .batchSize, "batch_size must be 1 to 1024")
        for (key, p) in [(CodingKeys.foregroundRatio, foregroundRatio), (.flipProbability, flipProbability),
                         (.intensityProbability, intensityProbability)] {
            try read.require((0...1).contains(p), key, "\(key.rawValue) is a probability in [0, 1], got \(p)")
        }
        try read.require(flipAxes.allSatisfy { (0...2).contains($0) }, .flipAxes, "flip_axes are 0 (i), 1 (j), 2 (k)")
        try read.require(intensityScale.count == 2 && intensityScale[0] <= intensityScale[1] && intensityScale[0] > 0,
                         .intensityScale, "intensity_scale needs [low, high] with 0 < low ≤ high")
        try read.require(intensityShift >= 0, .intensityShift, "intensity_shift must be 0 or more")
    }
}
