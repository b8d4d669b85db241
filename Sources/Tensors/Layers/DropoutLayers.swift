/// Dropout with its own seeded stream; the identity in evaluation mode.
public final class Dropout: Module, ForwardStateful {
    public let probability: Float
    private var rng: RandomGenerator

    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        rng = RandomGenerator(seed: seed, stream: "dropout")
    }

    public func reseed(_ seed: UInt64) { rng = RandomGenerator(seed: seed, stream: "dropout") }

    public func captureForwardState() -> () -> Void {
        let saved = rng
        return { self.rng = saved }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        isTraining && probability > 0 ? dropout(x, probability: probability, using: &rng) : x
    }
}

/// Stochastic depth on residual branches; the identity in evaluation mode.
public final class DropPath: Module, ForwardStateful {
    public let probability: Float
    private var rng: RandomGenerator

    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        rng = RandomGenerator(seed: seed, stream: "droppath")
    }

    public func reseed(_ seed: UInt64) { rng = RandomGenerator(seed: seed, stream: "droppath") }

    public func captureForwardState() -> () -> Void {
        let saved = rng
        return { self.rng = saved }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        isTraining && probability > 0 ? dropPath(x, probability: probability, using: &rng) : x
    }
}
