import Tensors

/// The activation of the conv blocks, MONAI's LeakyReLU(0.01), held by each block as MONAI's `lrelu`
/// module is. A tool that must watch or steer these activations (the parity runner's search over
/// float32 kinks) swaps them on its own model with `replaceConvBlockActivations`; production models
/// keep `monai` and pay nothing for the possibility.
public struct BlockActivation {
    public let apply: (Tensor) -> Tensor

    public init(_ apply: @escaping (Tensor) -> Tensor) { self.apply = apply }

    public static var monai: BlockActivation { BlockActivation { leakyRelu($0) } }

    func callAsFunction(_ x: Tensor) -> Tensor { apply(x) }
}

extension Module {
    /// Sets the activation of every conv block below this module (in UNETR and SwinUNETR: all of the
    /// encoder and decoder conv blocks) and returns how many blocks were changed.
    @discardableResult
    public func replaceConvBlockActivations(with activation: BlockActivation) -> Int {
        let blocks = namedModules().compactMap { $0.1 as? ConvBlock }
        for block in blocks { block.activation = activation }
        return blocks.count
    }
}
