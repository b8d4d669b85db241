/// A tensor's place in the autograd graph: whether it needs a gradient, the gradient, and the node
/// that made it. Graph nodes reference their inputs' slots, not the tensors, and each backward closure
/// keeps exactly the tensors whose values it reads (a product its operands, an activation its input;
/// an addition, a concatenation or a permutation nothing). So, as with PyTorch's saved tensors, the
/// graph keeps a value alive only where a backward needs it: a residual sum's inputs, a frozen
/// layer's input, a copied-out attention head are freed as soon as the forward pass is done with them.
final class GradSlot {
    let shape: [Int]
    var requiresGrad = false
    var grad: Tensor?
    /// How to push this gradient to the inputs' slots; nil for leaves and constants.
    var node: GradNode?
    /// The channels (axis 1) of this gradient that are ever read, when not all are: set on an axis-1
    /// concatenation of parts of which only some need a gradient. An op may leave the other channels
    /// of its gradient unwritten (a convolution then skips their share of the data gradient).
    var gradientChannels: Range<Int>?

    init(shape: [Int]) { self.shape = shape }

    var count: Int { shape.elementCount }

    /// The gradient to accumulate into, zero-filled on first use. Only valid while `requiresGrad`.
    func gradAccumulator() -> Tensor {
        if let grad { return grad }
        let fresh = Tensor(zeros: shape)
        grad = fresh
        return fresh
    }

    /// The gradient buffer a backward closure fills: a new, uninitialised one (`overwrite`: write
    /// every element, no zero-fill and no add) when there is none yet, else the existing one to add to.
    func gradientTarget() -> (tensor: Tensor, overwrite: Bool) {
        if let grad { return (grad, false) }
        let fresh = Tensor(uninitialized: shape)
        grad = fresh
        return (fresh, true)
    }
}

/// How a computed tensor passes its gradient back: the slots of the inputs that need one, and the
/// closure that accumulates into their gradients (micrograd's `_backward`, written next to each
/// op's forward).
final class GradNode {
    let inputs: [GradSlot]
    let backward: (Tensor) -> Void

    init(inputs: [GradSlot], backward: @escaping (Tensor) -> Void) {
        self.inputs = inputs
        self.backward = backward
    }
}

public enum GradMode {
    /// Off inside `withoutGrad`: ops then record nothing, whatever their inputs.
    @TaskLocal public static var isEnabled = true
    /// Set during a checkpointed block's first forward pass (`checkpointed`): ops record nothing but
    /// report their inputs that need a gradient, which is how the block learns what it depends on.
    @TaskLocal static var checkpointBoundary: CheckpointBoundary?

    /// True when ops build the graph: gradients on, and not inside a checkpointed block's first pass.
    /// (An op that keeps extra state only for its backward asks this, not `isEnabled`.)
    public static var isRecording: Bool { isEnabled && checkpointBoundary == nil }
}

/// Runs `body` without recording gradients (inference, evaluation, weight surgery).
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

extension Tensor {
    /// Marks a leaf (a parameter or an input) as needing a gradient, or not; dropping the need
    /// also drops the gradient buffer.
    public func setRequiresGrad(_ flag: Bool) {
        precondition(slot.node == nil, "only leaves can change whether they need a gradient")
        requiresGrad = flag
        if !flag { grad = nil }
    }

    /// Attaches `backward` to `self` when recording is on and an input needs a gradient; otherwise
    /// records nothing, which is what makes frozen layers free. Returns `self` for chaining.
    ///
    /// `backward` must keep (capture) every tensor whose values it reads, and reach the others'
    /// gradients through their `slot`: the node holds slots only, so a tensor it does not capture may
    /// be freed before it runs.
    @discardableResult
    func recording(_ inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return self }
        if let boundary = GradMode.checkpointBoundary {
            boundary.note(inputs)
            return self
        }
        requiresGrad = true
        slot.node = GradNode(inputs: inputs.filter(\.requiresGrad).map(\.slot), backward: backward)
        return self
    }

    /// Drops this leaf's gradient (before the next step).
    public func clearGrad() { grad = nil }

    /// Back-propagates from this scalar. Leaves that need a gradient receive it in `grad`
    /// (accumulated onto what they held); the graph and intermediate gradients are released as the
    /// walk passes them, so memory falls during the backward pass.
    public func backward() {
        precondition(count == 1, "backward() starts from a scalar; got shape \(shape)")
        guard requiresGrad else { return }
        slot.gradAccumulator().pointer.pointee += 1
        slot.propagateGradient(stoppingAt: [])
    }
}

extension GradSlot {
    /// Runs the backward walk from this slot, whose `grad` is set, down to the leaves and to the slots
    /// in `boundary`: their nodes are neither walked into nor run, and they keep the gradient they
    /// received (a checkpointed block's recomputed graph stops at the block's inputs this way).
    func propagateGradient(stoppingAt boundary: Set<ObjectIdentifier>) {
        var order = graphOrder(stoppingAt: boundary)
        // Popping (rather than iterating) drops the walk's own reference to each slot once it is
        // done, so the tensors its node kept are freed as soon as the node has run.
        while let slot = order.popLast() {
            guard let node = slot.node else { continue }
            if let grad = slot.grad { node.backward(grad) }
            slot.node = nil
            slot.grad = nil
        }
    }

    /// Computed slots reachable from `self` without passing through `boundary`, each after all of its
    /// inputs (iterative post-order DFS).
    private func graphOrder(stoppingAt boundary: Set<ObjectIdentifier>) -> [GradSlot] {
        var order: [GradSlot] = []
        var visited = boundary
        var stack: [(slot: GradSlot, next: Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (slot, next) = stack.popLast() {
            let inputs = slot.node?.inputs ?? []
            if next < inputs.count {
                stack.append((slot, next + 1))
                let input = inputs[next]
                if input.node != nil, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(slot)
            }
        }
        return order
    }
}
