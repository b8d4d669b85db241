import Tensors

/// MONAI `ViT` as UNETR uses it (no classification token): patch embedding, 12 transformer blocks,
/// final layer norm. Returns the normalised output and every block's hidden state.
public final class ViT: Module {
    let patchEmbedding: PatchEmbeddingBlock
    public let blocks: ModuleList<TransformerBlock>
    public let norm: LayerNorm

    init(_ config: UNETRConfig, layers: Int, rng: inout RandomGenerator) {
        patchEmbedding = PatchEmbeddingBlock(inChannels: config.inChannels, imgSize: config.imgSize,
                                             patch: UNETRConfig.patchSize, hidden: config.hiddenSize,
                                             perceptron: config.projType == "perceptron", dropout: config.dropoutRate, rng: &rng)
        var blocks: [TransformerBlock] = []
        for _ in 0..<layers {
            blocks.append(TransformerBlock(config.hiddenSize, mlpDim: config.mlpDim, heads: config.numHeads,
                                           dropout: config.dropoutRate, qkvBias: config.qkvBias, rng: &rng))
        }
        self.blocks = ModuleList(blocks)
        norm = LayerNorm(config.hiddenSize)
    }

    override public var children: [(String, Module)] {
        [("patch_embedding", patchEmbedding), ("blocks", blocks), ("norm", norm)]
    }

    func callAsFunction(_ x: Tensor, checkpointing: Bool = false) -> (output: Tensor, hidden: [Tensor]) {
        var h = patchEmbedding(x)
        var states: [Tensor] = []
        for block in blocks.elements {
            h = block.run([h], checkpointing: checkpointing) { block($0[0]) }
            states.append(h)
        }
        return (norm(h), states)
    }
}
