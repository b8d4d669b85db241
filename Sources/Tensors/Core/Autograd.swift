/// How a computed tensor passes its gradient back: the inputs that need one, and the closure that
/// accumulates into their gradients (micrograd's `_backward`, written next to each op's forward).
final class GradNode {
    let inputs: [Tensor]
    let backward: (Tensor) -> Void

    init(inputs: [Tensor], backward: @escaping (Tensor) -> Void) {
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
        precondition(node == nil, "only leaves can change whether they need a gradient")
        requiresGrad = flag
        if !flag { grad = nil }
    }

    /// Attaches `backward` to `self` when recording is on and an input needs a gradient; otherwise
    /// records nothing, which is what makes frozen layers free. Returns `self` for chaining.
    @discardableResult
    func recording(_ inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return self }
        if let boundary = GradMode.checkpointBoundary {
            boundary.note(inputs)
            return self
        }
        requiresGrad = true
        node = GradNode(inputs: inputs.filter(\.requiresGrad), backward: backward)
        return self
    }

    /// The gradient to accumulate into, zero-filled on first use. Only valid while `requiresGrad`.
    func gradAccumulator() -> Tensor {
        if let grad { return grad }
        let fresh = Tensor(zeros: shape)
        grad = fresh
        return fresh
    }

    /// Drops this leaf's gradient (before the next step).
    public func clearGrad() { grad = nil }

    /// Back-propagates from this scalar. Leaves that need a gradient receive it in `grad`
    /// (accumulated onto what they held); the graph and intermediate gradients are released as the
    /// walk passes them, so memory falls during the backward pass.
    public func backward() {
        precondition(count == 1, "backward() starts from a scalar; got shape \(shape)")
        guard requiresGrad else { return }
        gradAccumulator().pointer.pointee += 1
        propagateGradient(stoppingAt: [])
    }

    /// Runs the backward walk from `self`, whose `grad` is set, down to the leaves and to the tensors
    /// in `boundary`: their nodes are neither walked into nor run, and they keep the gradient they
    /// received (a checkpointed block's recomputed graph stops at the block's inputs this way).
    func propagateGradient(stoppingAt boundary: Set<ObjectIdentifier>) {
        var order = graphOrder(stoppingAt: boundary)
        // Popping (rather than iterating) drops the walk's own reference to each tensor once it is
        // done, so an intermediate's values are freed as soon as its consumers' nodes are gone.
        while let tensor = order.popLast() {
            guard let node = tensor.node else { continue }
            if let grad = tensor.grad { node.backward(grad) }
            tensor.node = nil
            tensor.grad = nil
        }
    }

    /// Computed tensors reachable from `self` without passing through `boundary`, each after all of
    /// its inputs (iterative post-order DFS).
    private func graphOrder(stoppingAt boundary: Set<ObjectIdentifier>) -> [Tensor] {
        var order: [Tensor] = []
        var visited = boundary
        var stack: [(tensor: Tensor, next: Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (tensor, next) = stack.popLast() {
            let inputs = tensor.node?.inputs ?? []
            if next < inputs.count {
                stack.append((tensor, next + 1))
                let input = inputs[next]
                if input.node != nil, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(tensor)
            }
        }
        return order
    }
}
