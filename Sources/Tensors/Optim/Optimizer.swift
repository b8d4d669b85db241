/// An optimizer updates exactly the parameters it was built with, in place, allocating its state
/// once at construction. Parameters whose gradient was not written this step are skipped (as
/// PyTorch skips `.grad is None`): UNETR's unused `norm_cross_attn` gets no update and no decay.
public protocol Optimizer: AnyObject {
    var parameters: [(String, Parameter)] { get }
    /// Learning rate used by the next `step()`; schedules set it.
    var learningRate: Float { get set }
    func step()
    /// Named state tensors, for checkpoints that resume exactly.
    func stateTensors() -> [(String, Tensor)]
    var stepCount: Int { get set }
}

extension Optimizer {
    /// Clears every gradient before the next forward pass.
    public func zeroGrad() { for (_, p) in parameters { p.value.clearGrad() } }

    /// Loads state saved by `stateTensors()`; throws on a missing or mis-shaped entry.
    public func loadState(_ tensors: [String: Tensor]) throws {
        for (name, tensor) in stateTensors() {
            guard let saved = tensors[name], saved.shape == tensor.shape else {
                throw OptimizerStateError(name: name)
            }
            tensor.assign(from: saved)
        }
    }
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "optimizer state '\(name)' is missing or has the wrong shape in the checkpoint" }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [(String, Parameter)], maxNorm: Float) -> Float {
    let grads = parameters.compactMap { $0.1.grad }
    let norm = Float(grads.reduce(0.0) { $0 + Double(Kernels.dot($1.pointer, $1.pointer, count: $1.count)) }.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for g in grads { Kernels.scale(g.pointer, by: scale, count: g.count) }
    }
    return norm
}
