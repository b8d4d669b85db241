extension Tensor {
    /// `recording(_:backward:)` with the backward charged to `kind` when profiling is on.
    @discardableResult
    func recording(_ kind: StaticString, _ inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        guard Profiler.isEnabled else { return recording(inputs, backward: backward) }
        return recording(inputs) { gy in Profiler.measure(kind, .backward) { backward(gy) } }
    }

    /// Same, with a label built at run time when profiling is on.
    @discardableResult
    func recording(label: @autoclosure () -> String, _ inputs: [Tensor],
                   backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        guard Profiler.isEnabled else { return recording(inputs, backward: backward) }
        let text = label()
        return recording(inputs) { gy in Profiler.measure(label: text, .backward) { backward(gy) } }
    }
}
