import ConfigDecoding

/// The shared pre-training stage that backbones with `pretrained: pretraining` start from.
///
/// `objective: supervised` (the default) trains segmentation on a labelled source set (e.g. the
/// synthetic BraTS-like set); `objective: self_supervised` trains masked-volume inpainting on images
/// alone (`InpaintingOptions`), e.g. on the training pool of one of the spec's own data sets, named by
/// `dataset: <name>`. Either way the stage reads only the data set's training pool, never its
/// validation or test cases.
public struct PretrainingSpec: Codable, Sendable {
    public enum Objective: String, NamedChoice, Sendable, Equatable {
        case supervised
        case selfSupervised = "self_supervised"
    }

    public var objective = Objective.supervised
    /// Masked-volume inpainting's options (`self_supervised` only).
    public var inpainting = InpaintingOptions()
    /// The source data set: written inline, or copied from the `datasets:` entry that `datasetReference`
    /// names (`ExperimentSpec` resolves it, so the stage reads that entry's cases with its split).
    public var dataset: DatasetSpec
    /// The name given as `dataset: <name>`; nil when the data set is written inline.
    public private(set) var datasetReference: String?
    public var training: TrainingSettings
    public var seed: UInt64 = 0

    enum CodingKeys: String, CodingKey, CaseIterable { case objective, inpainting, dataset, training, seed }

    /// What the stage's identity (part of its cells' keys) is made of. A supervised stage writes what it
    /// always wrote, so existing specs keep their cell keys; a self-supervised one adds its objective and
    /// options. The data set enters as written out in full, never as a name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(training, forKey: .training)
        try container.encode(seed, forKey: .seed)
        if objective != .supervised {
            try container.encode(objective, forKey: .objective)
            try container.encode(inpainting, forKey: .inpainting)
        }
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        objective = try read(.objective, objective)
        if let name = try? read(.dataset, nil as String?) {
            // A placeholder until `ExperimentSpec` replaces it with the named entry.
            datasetReference = name
            dataset = DatasetSpec(name: name, layout: .synthetic)
        } else {
            dataset = try read.required(.dataset)
        }
        training = try read(.training, TrainingSettings())
        try read(into: &self, (.seed, \.seed), (.inpainting, \.inpainting))
        try read.require(objective == .selfSupervised || !read.contains(.inpainting), .inpainting,
                         "inpainting options need `objective: self_supervised`")
    }

    /// Replaces a `dataset: <name>` placeholder with the `datasets:` entry of that name; false when
    /// there is none.
    mutating func resolveDataset(in datasets: [DatasetSpec]) -> Bool {
        guard let datasetReference else { return true }
        guard let entry = datasets.first(where: { $0.name == datasetReference }) else { return false }
        dataset = entry
        return true
    }
}

/// Masked-volume inpainting, the reconstruction task of Tang et al. (CVPR 2022, SwinUNETR
/// pre-training): random boxes of each training crop are filled with noise (or zeros) and the whole
/// network, with one output channel, reconstructs the crop under an L1 loss over the masked voxels
/// (or every voxel). Mask defaults are the authors' (`patch_rand_drop`: up to 30 % of the volume, boxes
/// of 5–25 % of each side).
public struct InpaintingOptions: Codable, Sendable, Equatable {
    public enum Fill: String, NamedChoice, Sendable, Equatable {
        /// Standard normal draws, the intensity scale of a z-scored image (the authors fill with noise
        /// on the scale of their [0, 1] images); a masked box then cannot pass for background.
        case noise
        /// Zeros: the background of a z-scored image.
        case zero
    }

    /// The fraction of a crop's voxels masked is drawn uniformly from [low, high] for each crop.
    public var maskFraction = [0.0, 0.3]
    /// A box's side, as a fraction of the crop's side along that axis, is drawn from [low, high].
    public var boxSize = [0.05, 0.25]
    public var fill = Fill.noise

    public enum LossVoxels: String, NamedChoice, Sendable, Equatable {
        /// The masked voxels only: the visible ones reach the output through UNETR's and SwinUNETR's
        /// full-resolution skip from the input, so copying them teaches the encoder nothing (the
        /// authors' head, without skips, had to pass everything through the encoder).
        case masked
        /// Every voxel of the crop, as the authors' `L1Loss`.
        case all
    }

    /// The voxels the L1 loss is taken over.
    public var lossOver = LossVoxels.masked

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maskFraction = "mask_fraction", boxSize = "box_size", fill, lossOver = "loss_over"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.maskFraction, \.maskFraction), (.boxSize, \.boxSize), (.fill, \.fill),
                              (.lossOver, \.lossOver))
        func isRange(_ range: [Double], low: Double, high: Double) -> Bool {
            range.count == 2 && range[0] >= low && range[0] <= range[1] && range[1] <= high
        }
        try read.require(isRange(maskFraction, low: 0, high: 0.9), .maskFraction,
                         "mask_fraction is [low, high] with 0 ≤ low ≤ high ≤ 0.9, e.g. [0, 0.3]")
        try read.require(isRange(boxSize, low: 0, high: 1) && boxSize[1] > 0, .boxSize,
                         "box_size is [low, high] with 0 ≤ low ≤ high ≤ 1 and high > 0, e.g. [0.05, 0.25]")
    }
}
