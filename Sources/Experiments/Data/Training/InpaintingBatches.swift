import Tensors

/// Training batches for masked-volume inpainting: the patch sampler's augmented crops, each masked by
/// `MaskedInpainting.mask`. The "label" of a batch is the crop before masking, [B, 1, k, j, i]: what
/// the network reconstructs. The masks have their own stream of the epoch's seed (`inpainting.mask`).
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
        let masked = Tensor(Array(UnsafeBufferPointer(start: original.pointer, count: original.count)), shape: original.shape)
        let patch = crops.options.patchSize
        let perCrop = patch.reduce(1, *)
        for n in 0..<original.shape[0] {
            MaskedInpainting.mask(masked.pointer + n * perCrop, size: patch, options: options, rng: &maskRNG)
        }
        return (masked, original)
    }
}
