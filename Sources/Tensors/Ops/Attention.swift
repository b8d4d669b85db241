/// softmax(q·kᵀ·scale + bias)·v over the last two axes, for q, k, v [B…, T, d]. `bias` (relative
/// positions, shifted-window masks) broadcasts against the [B…, T, T] scores.
public func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, scale: Float,
                                      bias: Tensor? = nil) -> Tensor {
    var scores = matmul(q, k, transposeB: true) * scale
    if let bias { scores = scores + bias }
    return matmul(softmax(scores, axis: -1), v)
}
