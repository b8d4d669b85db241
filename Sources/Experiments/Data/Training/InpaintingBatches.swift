import Tensors

/// Training batches for masked-volume inpainting: the patch sampler's augmented crops, each masked by
/// `MaskedInpainting.mask`. The "label" of a batch is [B, 2, k, j, i]: channel 0 the crop before
/// masking (what the network reconstructs), channel 1 its mask (1 where masked); `split` takes it
/// apart. The masks have their own stream of the epoch's seed (`inpainting.mask`).
public struct InpaintingBatches: BatchSource {
    public let options: InpaintingOptions
    private var crops: PatchSampler
    private var maskRNG: RandomGenerator

    public init(crops: PatchSampler, options: InpaintingOptions) {
        self.crops = crops
        self.options = options
        maskRNG = RandomGenerator(seed: 0, stream: "inpainting.mask")
    }

    public mutating func reseed(_ seed: UInt64) {
        crops.reseed(seed)
        maskRNG = RandomGenerator(seed: seed, stream: "inpainting.mask")
    }

    public mutating func nextBatch() -> (image: Tensor, label: Tensor) {
        let original = crops.nextBatch().image
        let patch = crops.options.patchSize
        let perCrop = patch.reduce(1, *)
        let masked = Tensor(original.values, shape: original.shape)
        let label = Tensor(zeros: [original.shape[0], 2] + Array(original.shape[2...]))
        for n in 0..<original.shape[0] {
            let voxels = MaskedInpainting.mask(masked.pointer + n * perCrop, size: patch, options: options, rng: &maskRNG)
            (label.pointer + 2 * n * perCrop).update(from: original.pointer + n * perCrop, count: perCrop)
            for (v, isMasked) in voxels.enumerated() where isMasked { label.pointer[(2 * n + 1) * perCrop + v] = 1 }
        }
        return (masked, label)
    }

    /// A batch's label as the reconstruction target and the mask, each [B, 1, k, j, i].
    public static func split(_ label: Tensor) -> (target: Tensor, mask: Tensor) {
        let batch = label.shape[0], perCrop = label.count / (2 * batch)
        let shape = [batch, 1] + Array(label.shape[2...])
        let target = Tensor(uninitialized: shape), mask = Tensor(uninitialized: shape)
        for n in 0..<batch {
            (target.pointer + n * perCrop).update(from: label.pointer + 2 * n * perCrop, count: perCrop)
            (mask.pointer + n * perCrop).update(from: label.pointer + (2 * n + 1) * perCrop, count: perCrop)
        }
        return (target, mask)
    }
}
