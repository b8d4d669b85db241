import Tensors

/// MONAI `MLPBlock`: linear1 → GELU → dropout → linear2 → dropout. MONAI's `dropout_mode="vit"`
/// has two dropout modules; `"swin"` (`sharedDropout`) uses one module, `drop2` is `drop1`.
public final class MLPBlock: Module, AdaptableBlock {
    public let linear1: Linear, linear2: Linear
    let drop1: Dropout, drop2: Dropout
    public var adapter: (any BlockAdapter)?

    init(_ hidden: Int, _ mlpDim: Int, dropout: Double, sharedDropout: Bool = false, rng: inout RandomGenerator) {
        linear1 = Linear(hidden, mlpDim, rng: &rng)
        linear2 = Linear(mlpDim, hidden, rng: &rng)
        drop1 = Dropout(Float(dropout), seed: rng.next())
        drop2 = sharedDropout ? drop1 : Dropout(Float(dropout), seed: rng.next())
    }

    public var width: Int { linear1.inFeatures }
    override public var children: [(String, Module)] {
        [("linear1", linear1), ("linear2", linear2), ("drop1", drop1), ("drop2", drop2)] + (adapter?.children ?? [])
    }
    override public var parameters: [(String, Parameter)] { adapter?.parameters ?? [] }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let base: (Tensor) -> Tensor = { x in self.drop2(self.linear2(self.drop1(gelu(self.linear1(x))))) }
        return adapter?.output(x, base: base) ?? base(x)
    }
}
