import Tensors

extension Module {
    /// `body(inputs)`; when `checkpointing`, as a checkpointed block whose tensors are recomputed in
    /// the backward pass instead of kept (`checkpointed`; this module's dropout streams and running
    /// statistics are restored for the recomputation). `body` must read its tensors from its argument,
    /// not capture them, so the recomputation can stand in for them.
    func run(_ inputs: [Tensor], checkpointing: Bool, _ body: @escaping (_ inputs: [Tensor]) -> Tensor) -> Tensor {
        checkpointing ? checkpointed(inputs, stateOf: self, body) : body(inputs)
    }
}
