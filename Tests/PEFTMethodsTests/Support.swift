import Backbones
import PEFTMethods
import Tensors
import XCTest

/// Small configurations of both backbones, fast enough to adapt and train in a test.
enum TinyBackbone: CaseIterable {
    case unetr, swinunetr

    var config: BackboneConfig {
        switch self {
        case .unetr:
            var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
            (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = (4, 24, 48, 2)
            return .unetr(c)
        case .swinunetr:
            var c = SwinUNETRConfig(inChannels: 1, outChannels: 2)
            (c.featureSize, c.depths, c.numHeads, c.windowSize) = (12, [1, 1, 1, 1], [1, 2, 2, 4], 4)
            return .swinunetr(c)
        }
    }

    /// SwinUNETR's deepest stage is 1/32 of the input: 64×32×32 leaves it two voxels, so its instance
    /// norms have something to normalise (one voxel normalises to 0 and passes no gradient).
    var inputSize: [Int] { self == .unetr ? [32, 32, 32] : [64, 32, 32] }

    /// A model with non-trivial "pre-trained" weights (biases and norms perturbed, as in the fixtures).
    func make(seed: UInt64 = 7) throws -> any Backbone {
        let model = try makeBackbone(config, seed: seed)
        var rng = RandomGenerator(seed: seed, stream: "perturb")
        for (name, parameter) in model.namedParameters() where name.hasSuffix(".bias") || name.contains("norm") {
            parameter.assign(parameter.value + Tensor.normal(parameter.shape, std: 0.1, using: &rng))
        }
        return model
    }

    func input(seed: UInt64 = 3) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return .normal([1, 1] + inputSize, using: &rng)
    }

    /// Noisy bright balls and their masks.
    func task(batch: Int = 1) -> (image: Tensor, label: Tensor) {
        let size = inputSize, volume = size.elementCount
        let image = Tensor(uninitialized: [batch, 1] + size), label = Tensor(zeros: [batch] + size)
        var rng = RandomGenerator(seed: 11)
        for b in 0..<batch {
            let centre = size.map { Float($0) / 2 + rng.uniform(-4, 4) }
            for z in 0..<size[0] { for y in 0..<size[1] { for x in 0..<size[2] {
                let d = zip([z, y, x], centre).map { (Float($0) - $1) * (Float($0) - $1) }.reduce(0, +)
                let inside = d.squareRoot() < Float(size.min()!) / 4
                let i = b * volume + (z * size[1] + y) * size[2] + x
                label.pointer[i] = inside ? 1 : 0
                image.pointer[i] = (inside ? 1 : 0) + rng.normal()
            }}}
        }
        return (image, label)
    }
}

func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape)
    let scale = max(Kernels.maxAbs(b.pointer, count: b.count), 1e-12)
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a[flat: i] - b[flat: i])) }
    return worst / scale
}
