/// Segmentation losses over logits [N, C, spatial…] and integer class labels [N, spatial…] or
/// [N, 1, spatial…] stored as Float.

/// One-hot encoding of class labels into [N, classes, spatial…] (a constant: it needs no gradient).
/// The labels may be [N, spatial…] or [N, 1, spatial…]; only their element count must match.
public func oneHot(_ labels: Tensor, classes: Int, spatial: [Int]) -> Tensor {
    let n = labels.shape[0]
    let volume = spatial.elementCount
    precondition(labels.count == n * volume, "labels \(labels.shape) for \(n) volumes of \(spatial)")
    let y = Tensor(zeros: [n, classes] + spatial)
    for b in 0..<n {
        for v in 0..<volume {
            let c = Int(labels.pointer[b * volume + v])
            precondition(c >= 0 && c < classes, "label \(c) outside 0..<\(classes)")
            y.pointer[(b * classes + c) * volume + v] = 1
        }
    }
    return y
}

/// The papers' `softmax_dice2` (HyPS, LoRA-PT): Σ over classes (background included) of
/// 1 − 2·Σ(p·t) / (Σp + Σt + ε), each sum taken over the whole batch, on softmax probabilities.
public func softmaxDiceLoss(logits: Tensor, labels: Tensor, epsilon: Float = 1e-5) -> Tensor {
    let classes = logits.shape[1]
    let p = softmax(logits, axis: 1), t = oneHot(labels, classes: classes, spatial: Array(logits.shape[2...]))
    let axes = [0] + Array(2..<logits.rank)
    let intersection = (p * t).sum(axes: axes)
    let denominator = p.sum(axes: axes) + t.sum(axes: axes) + epsilon
    return (1 - 2 * (intersection / denominator)).sum()
}

/// MONAI's `DiceLoss(to_onehot_y=True, softmax=True)`: 1 − (2·I + 1e-5)/(Σp + Σt + 1e-5) per sample
/// and class (background included), averaged.
public func monaiDiceLoss(logits: Tensor, labels: Tensor, smooth: Float = 1e-5) -> Tensor {
    let classes = logits.shape[1]
    let p = softmax(logits, axis: 1), t = oneHot(labels, classes: classes, spatial: Array(logits.shape[2...]))
    let axes = Array(2..<logits.rank)
    let intersection = (p * t).sum(axes: axes)
    let denominator = p.sum(axes: axes) + t.sum(axes: axes) + smooth
    return (1 - (2 * intersection + smooth) / denominator).mean()
}

/// Mean cross-entropy over every voxel of the batch.
public func crossEntropyLoss(logits: Tensor, labels: Tensor) -> Tensor {
    let classes = logits.shape[1]
    let voxels = logits.count / classes
    return (logSoftmax(logits, axis: 1) * oneHot(labels, classes: classes, spatial: Array(logits.shape[2...]))).sum() * (-1 / Float(voxels))
}

/// MONAI's `DiceCELoss(to_onehot_y=True, softmax=True)` with unit weights.
public func diceCrossEntropyLoss(logits: Tensor, labels: Tensor) -> Tensor {
    monaiDiceLoss(logits: logits, labels: labels) + crossEntropyLoss(logits: logits, labels: labels)
}

/// 1 − x, elementwise.
func - (s: Float, x: Tensor) -> Tensor { affine(x, scale: -1, shift: s) }
