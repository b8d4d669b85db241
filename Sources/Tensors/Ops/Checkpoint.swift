/// Activation checkpointing (PyTorch's `torch.utils.checkpoint`): runs `body` on `inputs` now without
/// keeping any tensor it makes inside, and runs it again in the backward pass, recording this time, to
/// push the output's gradient through the recomputed graph. Memory then holds a block's inputs and
/// output instead of everything the block made; the price is one more forward pass of the block.
///
/// The first pass records nothing but notes every tensor the block reads that needs a gradient (its
/// inputs, trainable parameters, weights a hook rebuilt from trained factors): those become the
/// inputs of one graph node, so the outer walk orders and reaches them as it would the block's own
/// nodes. The recomputation starts from the state `stateOf`'s modules had before the first pass
/// (dropout streams, running statistics: `ForwardStateful`), so it draws the same masks and returns
/// the same values bit for bit; the modules end in the state the first pass left. Gradients are
/// written in the order the un-checkpointed walk writes them, into the same buffers, so they are
/// bit-identical to the un-checkpointed step's (`CheckpointTests`).
///
/// Without recording (inference, `withoutGrad`, or inside another checkpointed block's first pass)
/// this is `body(inputs)`. When nothing the block reads needs a gradient (a frozen encoder's block
/// fed by frozen layers), nothing is kept and nothing is recomputed.
public func checkpointed(_ inputs: [Tensor], stateOf module: Module,
                         _ body: @escaping (_ inputs: [Tensor]) -> Tensor) -> Tensor {
    guard GradMode.isRecording else { return body(inputs) }
    let stateBefore = ForwardStateSnapshot(of: module)
    let boundary = CheckpointBoundary()
    let y = GradMode.$checkpointBoundary.withValue(boundary) { body(inputs) }
    guard !boundary.tensors.isEmpty else { return y }
    let stateAfter = ForwardStateSnapshot(of: module)
    // The node's inputs are what the block read; the closure keeps the block's own inputs, which the
    // recomputation reads (parameters and the like are kept by their modules).
    let outside = Set(boundary.tensors.map { ObjectIdentifier($0.slot) })
    return y.recording("checkpoint", boundary.tensors) { gy in
        stateBefore.restore()
        let standIns = GradientStandIns(inputs)
        let recomputed = body(standIns.tensors)
        stateAfter.restore()
        precondition(recomputed.shape == gy.shape, "checkpointed block: recomputed \(recomputed.shape), first pass \(gy.shape)")
        guard recomputed.requiresGrad else { return }
        recomputed.grad = gy
        // Stop at the tensors the block read from outside: the outer walk runs their nodes later,
        // once every consumer (this block among them) has added its share.
        recomputed.slot.propagateGradient(stoppingAt: outside)
        standIns.handGradientsBack()
    }
}

/// The tensors needing a gradient that a checkpointed block's first pass read, in first-use order.
/// Unchecked Sendable because it lives in a task-local value read only by the task running the block.
final class CheckpointBoundary: @unchecked Sendable {
    private(set) var tensors: [Tensor] = []
    private var seen = Set<ObjectIdentifier>()

    /// Called by `recording` for each op of the first pass. Tensors made inside that pass never
    /// need a gradient (nothing is recorded), so every one noted here comes from outside.
    func note(_ inputs: [Tensor]) {
        for input in inputs where input.requiresGrad && seen.insert(ObjectIdentifier(input)).inserted {
            tensors.append(input)
        }
    }
}

/// Leaves standing in for a checkpointed block's inputs during the recomputation, so that its walk
/// ends at them instead of running on into the graph that made the inputs. A stand-in shares its
/// input's values and, when the input already has one, its gradient buffer: the block's
/// contributions are then added into that buffer in the un-checkpointed walk's order.
private struct GradientStandIns {
    let originals: [Tensor]
    let tensors: [Tensor]

    init(_ inputs: [Tensor]) {
        var made: [ObjectIdentifier: Tensor] = [:]
        originals = inputs
        tensors = inputs.map { input in
            guard input.requiresGrad else { return input }
            if let standIn = made[ObjectIdentifier(input)] { return standIn }
            let standIn = Tensor(shape: input.shape, storage: input.storage)
            standIn.requiresGrad = true
            standIn.grad = input.grad
            standIn.gradientChannels = input.gradientChannels
            made[ObjectIdentifier(input)] = standIn
            return standIn
        }
    }

    /// Gives each input the gradient its stand-in received, when the input had none before.
    func handGradientsBack() {
        for (input, standIn) in zip(originals, tensors) where input !== standIn && input.grad == nil {
            input.grad = standIn.grad
        }
    }
}
