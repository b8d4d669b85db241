/// Reconstruction losses: a prediction against a target image of the same shape.

/// Mean absolute error over every element, |d| written as relu(d) + relu(−d) so that it needs no op
/// of its own (its gradient is sign(d), and 0 where d = 0).
public func l1Loss(prediction: Tensor, target: Tensor) -> Tensor {
    precondition(prediction.shape == target.shape, "prediction \(prediction.shape) and target \(target.shape) differ")
    let difference = prediction - target
    return (relu(difference) + relu(-difference)).mean()
}
