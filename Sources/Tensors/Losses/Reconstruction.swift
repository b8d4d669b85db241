/// Reconstruction losses: a prediction against a target image of the same shape.

/// Mean absolute error, over every element or, with `mask` (a constant of the same shape, 1 where
/// counted, 0 elsewhere), over the masked elements only (0 when none is). |d| is written as
/// relu(d) + relu(−d), so it needs no op of its own (its gradient is sign(d), and 0 where d = 0).
public func l1Loss(prediction: Tensor, target: Tensor, mask: Tensor? = nil) -> Tensor {
    precondition(prediction.shape == target.shape, "prediction \(prediction.shape) and target \(target.shape) differ")
    var difference = prediction - target
    var count = Float(prediction.count)
    if let mask {
        precondition(mask.shape == target.shape, "mask \(mask.shape) and target \(target.shape) differ")
        difference = difference * mask
        count = mask.values.reduce(0, +)
    }
    return (relu(difference) + relu(-difference)).sum() * (1 / max(count, 1))
}
