/// A trainable or frozen tensor owned by a module. Optimizers update `value` in place.
public final class Parameter {
    public private(set) var value: Tensor
    /// Bumped whenever the values change (optimizer step, load), so caches derived from them can expire.
    public private(set) var version = 0

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        value.setRequiresGrad(trainable)
    }

    public var isTrainable: Bool {
        get { value.requiresGrad }
        set { value.setRequiresGrad(newValue) }
    }

    public var shape: [Int] { value.shape }
    public var grad: Tensor? { value.grad }

    /// Replaces the values (same shape), keeping the trainable flag.
    public func assign(_ newValue: Tensor) {
        value.assign(from: newValue)
        version += 1
    }

    /// Records an in-place update made through `value.pointer`.
    public func markUpdated() { version += 1 }
}

/// Non-trainable state saved with the model (batch-norm statistics, index tables).
public final class Buffer {
    public enum Kind: Sendable { case float32, int64 }
    public let value: Tensor
    public let kind: Kind

    public init(_ value: Tensor, kind: Kind = .float32) {
        self.value = value
        self.kind = kind
    }
}

/// A network part with named children, parameters and buffers, named exactly like PyTorch's
/// `state_dict()` keys. Subclasses list their own entries in three tables; traversal, freezing,
/// train/eval and checkpoints are implemented once, here.
open class Module {
    public private(set) var isTraining = true

    public init() {}

    /// Direct sub-modules, in PyTorch's registration order.
    open var children: [(String, Module)] { [] }
    /// Parameters owned directly by this module.
    open var parameters: [(String, Parameter)] { [] }
    /// Buffers owned directly by this module.
    open var buffers: [(String, Buffer)] { [] }

    /// Called after `train(_:)` changed the mode of this module.
    open func didChangeMode() {}

    /// Sets training (dropout on, batch statistics) or evaluation mode, recursively.
    public func train(_ training: Bool = true) {
        isTraining = training
        didChangeMode()
        for (_, child) in children { child.train(training) }
    }

    public func eval() { train(false) }

    /// Every module below and including this one, with dotted paths ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result = [(prefix, self)]
        for (name, child) in children {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    public func namedParameters() -> [(String, Parameter)] {
        namedModules().flatMap { path, module in
            module.parameters.map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    public func namedBuffers() -> [(String, Buffer)] {
        namedModules().flatMap { path, module in
            module.buffers.map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    public func trainableParameters() -> [(String, Parameter)] { namedParameters().filter { $0.1.isTrainable } }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }
    public var trainableParameterCount: Int { trainableParameters().reduce(0) { $0 + $1.1.value.count } }

    /// Freezes every parameter below this module.
    public func freeze() { for (_, p) in namedParameters() { p.isTrainable = false } }
    public func unfreeze() { for (_, p) in namedParameters() { p.isTrainable = true } }

    /// Drops the gradients of every parameter (before the next step).
    public func clearGradients() { for (_, p) in namedParameters() { p.value.clearGrad() } }
}

/// PyTorch's ModuleList / Sequential container level: children named "0", "1", …
public final class ModuleList<Element: Module>: Module {
    public private(set) var elements: [Element]

    public init(_ elements: [Element]) { self.elements = elements }

    override public var children: [(String, Module)] { elements.enumerated().map { (String($0.offset), $0.element) } }

    public subscript(index: Int) -> Element { elements[index] }
    public var count: Int { elements.count }
}
