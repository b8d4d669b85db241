import Tensors

/// MONAI `SABlock`: fused qkv projection laid out as (qkv, head, head_dim), scaled dot-product
/// attention per head, output projection.
public final class SABlock: Module, AdaptableBlock {
    public let qkv: Linear, outProj: Linear
    let heads: Int
    let dropOutput: Dropout, dropWeights: Dropout
    public var adapter: (any BlockAdapter)?

    init(_ hidden: Int, heads: Int, dropout: Double, qkvBias: Bool, rng: inout RandomGenerator) {
        outProj = Linear(hidden, hidden, rng: &rng)
        qkv = Linear(hidden, 3 * hidden, bias: qkvBias, rng: &rng)
        self.heads = heads
        dropOutput = Dropout(Float(dropout), seed: rng.next())
        dropWeights = Dropout(Float(dropout), seed: rng.next())
    }

    public var width: Int { qkv.inFeatures }
    override public var children: [(String, Module)] {
        [("out_proj", outProj), ("qkv", qkv), ("drop_output", dropOutput), ("drop_weights", dropWeights)]
            + (adapter?.children ?? [])
    }
    override public var parameters: [(String, Parameter)] { adapter?.parameters ?? [] }

    func callAsFunction(_ x: Tensor) -> Tensor {
        adapter?.output(x, base: attend) ?? attend(x)
    }

    private func attend(_ x: Tensor) -> Tensor {
        let (b, n, hidden) = (x.shape[0], x.shape[1], x.shape[2])
        let dimHead = hidden / heads
        // "b n (qkv l d) -> qkv b l n d"
        let qkvHeads = qkv(x).reshaped([b, n, 3, heads, dimHead]).permuted([2, 0, 3, 1, 4])
        let parts = qkvHeads.split(sizes: [1, 1, 1], axis: 0).map { $0.reshaped([b, heads, n, dimHead]) }
        var scores = matmul(parts[0], parts[1], transposeB: true) * (1 / Float(dimHead).squareRoot())
        scores = dropWeights(softmax(scores, axis: -1))
        let attended = matmul(scores, parts[2]).permuted([0, 2, 1, 3]).reshaped([b, n, hidden])
        return dropOutput(outProj(attended))
    }
}
