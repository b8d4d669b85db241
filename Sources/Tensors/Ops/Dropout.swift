/// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p).
public func dropout(_ x: Tensor, probability p: Float, using rng: inout RandomGenerator) -> Tensor {
    guard p > 0 else { return x }
    let keep = 1 - p
    let mask = Tensor(uninitialized: x.shape)
    for i in 0..<mask.count { mask.pointer[i] = rng.uniform() < keep ? 1 / keep : 0 }
    return x * mask
}

/// Stochastic depth (timm's / MONAI's DropPath): drops a whole sample of the batch (axis 0) with
/// probability p and scales the kept ones by 1/(1 − p).
public func dropPath(_ x: Tensor, probability p: Float, using rng: inout RandomGenerator) -> Tensor {
    guard p > 0 else { return x }
    let keep = 1 - p
    let mask = Tensor(uninitialized: [x.shape[0]] + Array(repeating: 1, count: x.rank - 1))
    for i in 0..<mask.count { mask.pointer[i] = rng.uniform() < keep ? 1 / keep : 0 }
    return x * mask
}
