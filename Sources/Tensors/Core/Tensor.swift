import Foundation

/// A dense, contiguous Float32 tensor in row-major order (NCDHW for volumes, as PyTorch).
///
/// Tensors are reference types: autodiff attaches gradients and graph nodes to their identity.
/// `reshaped` shares storage; every other op makes a new contiguous tensor.
public final class Tensor {
    public let shape: [Int]
    public let storage: Storage

    /// This tensor's place in the autograd graph (its gradient, and the node that made it), held apart
    /// from its values so that the graph can outlive them (`GradSlot`).
    let slot: GradSlot

    /// True for trainable parameters and for every result computed from one while gradients are recorded.
    public internal(set) var requiresGrad: Bool {
        get { slot.requiresGrad }
        set { slot.requiresGrad = newValue }
    }
    /// The accumulated gradient, after `backward()`; leaves keep it, intermediate results release it.
    public internal(set) var grad: Tensor? {
        get { slot.grad }
        set { slot.grad = newValue }
    }
    /// The channels (axis 1) of this tensor's gradient that are ever read (`GradSlot.gradientChannels`).
    var gradientChannels: Range<Int>? {
        get { slot.gradientChannels }
        set { slot.gradientChannels = newValue }
    }

    public init(shape: [Int], storage: Storage) {
        precondition(storage.count >= shape.elementCount, "storage of \(storage.count) floats for shape \(shape)")
        self.shape = shape
        self.storage = storage
        slot = GradSlot(shape: shape)
    }

    /// Uninitialised: the caller writes every element.
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: shape.elementCount))
    }

    public convenience init(zeros shape: [Int]) {
        self.init(shape: shape, storage: Storage(zeros: shape.elementCount))
    }

    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        storage.pointer.update(repeating: value, count: count)
    }

    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.elementCount, "\(values.count) values for shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    public var count: Int { shape.elementCount }
    public var rank: Int { shape.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: storage.pointer, count: count) }
    public var values: [Float] { Array(buffer) }
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with shape \(shape)")
        return pointer[0]
    }

    public subscript(flat index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    /// A copy that records no history and needs no gradient.
    public func detached() -> Tensor {
        let copy = Tensor(uninitialized: shape)
        copy.pointer.update(from: pointer, count: count)
        return copy
    }

    /// Overwrites this tensor's values in place (e.g. loading a checkpoint into a parameter).
    public func assign(from other: Tensor) {
        precondition(other.shape == shape, "assign \(other.shape) to \(shape)")
        pointer.update(from: other.pointer, count: count)
    }
}

extension Array where Element == Int {
    public var elementCount: Int { reduce(1, *) }

    /// Row-major strides.
    public var strides: [Int] {
        var strides = Array(repeating: 1, count: count)
        var stride = 1
        for axis in indices.reversed() {
            strides[axis] = stride
            stride *= self[axis]
        }
        return strides
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = buffer.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
