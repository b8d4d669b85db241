import Backbones
import Tensors

/// Masked-volume inpainting (Tang et al., CVPR 2022): the masks, and the reconstruction error a
/// model makes on images it did not train on.
public enum MaskedInpainting {
    /// Fills random boxes of one crop in place (`size` (i, j, k), NIfTI order: i fastest) until at
    /// least a fraction drawn from `options.maskFraction` of its voxels is masked (voxels, not boxes, are
    /// counted, so overlaps do not shorten the mask). Returns which voxels were masked. A box starts
    /// anywhere that leaves room for its smallest side and is cut at the crop's edge, as the authors'.
    @discardableResult
    public static func mask(_ voxels: UnsafeMutablePointer<Float>, size: [Int], options: InpaintingOptions,
                            rng: inout RandomGenerator) -> [Bool] {
        let count = size.reduce(1, *)
        var masked = [Bool](repeating: false, count: count)
        let range = options.maskFraction
        let wanted = Int(((range[0] + (range[1] - range[0]) * Double(rng.uniform())) * Double(count)).rounded(.up))
        let smallest = size.map { max(1, Int(options.boxSize[0] * Double($0))) }
        let largest = (0..<3).map { max(smallest[$0], Int(options.boxSize[1] * Double(size[$0]))) }
        var total = 0
        while total < wanted {
            var start = [0, 0, 0], end = [0, 0, 0]
            for axis in 0..<3 {
                start[axis] = Int(rng.next() % UInt64(size[axis] - smallest[axis] + 1))
                let side = smallest[axis] + Int(rng.next() % UInt64(largest[axis] - smallest[axis] + 1))
                end[axis] = min(size[axis], start[axis] + side)
            }
            for k in start[2]..<end[2] {
                for j in start[1]..<end[1] {
                    for i in start[0]..<end[0] {
                        let n = (k * size[1] + j) * size[0] + i
                        voxels[n] = options.fill == .noise ? rng.normal() : 0
                        if !masked[n] { masked[n] = true; total += 1 }
                    }
                }
            }
        }
        return masked
    }

    /// Mean absolute reconstruction errors: over the masked voxels, and over every voxel of the crops.
    public struct Score: Sendable, Equatable {
        public var masked: Double
        public var volume: Double
    }

    /// `model`'s reconstruction error on `cases`: each case's centre crop of `patchSize` (i, j, k),
    /// masked with draws from `seed` (the same masks for every model scored with the same seed and
    /// cases), scored in evaluation mode.
    public static func score(_ model: any Backbone, cases: [PreparedCase], patchSize: [Int], options: InpaintingOptions,
                             seed: UInt64) -> Score {
        model.eval()
        defer { model.train() }
        var rng = RandomGenerator(seed: seed, stream: "inpainting.score")
        var maskedError = 0.0, maskedCount = 0, volumeError = 0.0, volumeCount = 0
        for c in cases {
            let start = (0..<3).map { (c.gridSize[$0] - patchSize[$0]) / 2 }
            let crop = Window.cut(c.image, size: c.gridSize, start: start, windowSize: patchSize, fill: c.background)
            let input = Tensor(crop, shape: [1, 1] + AxisOrder.tensorShape(fromNIfTI: patchSize))
            let masked = mask(input.pointer, size: patchSize, options: options, rng: &rng)
            let output = withoutGrad { model(input) }
            for n in crop.indices {
                let error = Double(abs(output.pointer[n] - crop[n]))
                volumeError += error
                volumeCount += 1
                if masked[n] { maskedError += error; maskedCount += 1 }
            }
        }
        return Score(masked: maskedError / Double(max(maskedCount, 1)), volume: volumeError / Double(max(volumeCount, 1)))
    }
}
