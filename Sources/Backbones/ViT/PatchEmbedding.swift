import Tensors

/// MONAI `PatchEmbeddingBlock`: non-overlapping patches projected to tokens (a strided convolution,
/// or "perceptron": flattened patches through a linear layer), plus learnable position embeddings.
final class PatchEmbeddingBlock: Module {
    private let convProjection: Conv3d?
    private let linearProjection: Linear?
    let positionEmbeddings: Parameter
    let dropout: Dropout
    let patch: Int, grid: [Int], hidden: Int

    init(inChannels: Int, imgSize: [Int], patch: Int, hidden: Int, perceptron: Bool, dropout rate: Double,
         rng: inout RandomGenerator) {
        self.patch = patch
        self.hidden = hidden
        grid = imgSize.map { $0 / patch }
        if perceptron {
            convProjection = nil
            let patchDim = inChannels * patch * patch * patch
            linearProjection = Linear(weight: .truncatedNormal([hidden, patchDim], std: 0.02, using: &rng),
                                      bias: Tensor(zeros: [hidden]))
        } else {
            convProjection = Conv3d(inChannels, hidden, kernel: [patch, patch, patch], stride: [patch, patch, patch], rng: &rng)
            linearProjection = nil
        }
        positionEmbeddings = Parameter(.truncatedNormal([1, grid.elementCount, hidden], std: 0.02, using: &rng))
        dropout = Dropout(Float(rate), seed: rng.next())
    }

    override var children: [(String, Module)] {
        // The perceptron is nn.Sequential(Rearrange, Linear): the linear layer is child "1".
        if let linearProjection { return [("patch_embeddings", Sequential1(linearProjection)), ("dropout", dropout)] }
        return [("patch_embeddings", convProjection!), ("dropout", dropout)]
    }
    override var parameters: [(String, Parameter)] { [("position_embeddings", positionEmbeddings)] }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b = x.shape[0], c = x.shape[1]
        let tokens: Tensor
        if let convProjection {
            let y = convProjection(x)                                    // [b, hidden, g0, g1, g2]
            tokens = y.reshaped([b, hidden, grid.elementCount]).transposed(1, 2)
        } else {
            // "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)"
            let p = patch
            let patches = x.reshaped([b, c, grid[0], p, grid[1], p, grid[2], p]).permuted([0, 2, 4, 6, 3, 5, 7, 1])
            tokens = linearProjection!(patches.reshaped([b, grid.elementCount, p * p * p * c]))
        }
        return dropout(tokens + positionEmbeddings.value)
    }
}

/// An nn.Sequential whose only parameterised entry sits at index 1 (index 0 is a parameter-free Rearrange).
final class Sequential1: Module {
    let layer: Module
    init(_ layer: Module) { self.layer = layer }
    override var children: [(String, Module)] { [("1", layer)] }
}
