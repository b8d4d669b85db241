import Tensors

/// Wraps a whole block's computation (Houlsby adapters after attention and MLP, AdaptFormer's
/// parallel branch beside the MLP). `base` is the block's own computation.
public protocol BlockAdapter: LayerAdapter {
    func output(_ x: Tensor, base: (Tensor) -> Tensor) -> Tensor
}

/// A transformer sub-block that accepts a `BlockAdapter` (MLP and attention blocks of both backbones).
public protocol AdaptableBlock: Module {
    var adapter: (any BlockAdapter)? { get set }
    /// Feature width of the block's input and output tokens.
    var width: Int { get }
}
