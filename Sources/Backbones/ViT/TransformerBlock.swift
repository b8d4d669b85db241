import Tensors

/// MONAI `TransformerBlock` (pre-norm): x + attn(norm1(x)), then x + mlp(norm2(x)).
/// `norm_cross_attn` is in every MONAI ≥ 1.4 checkpoint but never used; older checkpoints lack it.
public final class TransformerBlock: Module {
    public let mlp: MLPBlock, attn: SABlock
    public let norm1: LayerNorm, norm2: LayerNorm, normCrossAttn: LayerNorm

    init(_ hidden: Int, mlpDim: Int, heads: Int, dropout: Double, qkvBias: Bool, rng: inout RandomGenerator) {
        mlp = MLPBlock(hidden, mlpDim, dropout: dropout, rng: &rng)
        norm1 = LayerNorm(hidden)
        attn = SABlock(hidden, heads: heads, dropout: dropout, qkvBias: qkvBias, rng: &rng)
        norm2 = LayerNorm(hidden)
        normCrossAttn = LayerNorm(hidden)
    }

    override public var children: [(String, Module)] {
        [("mlp", mlp), ("norm1", norm1), ("attn", attn), ("norm2", norm2), ("norm_cross_attn", normCrossAttn)]
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + attn(norm1(x))
        return h + mlp(norm2(h))
    }
}
