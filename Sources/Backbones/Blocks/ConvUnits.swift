import Tensors

/// MONAI's `Convolution` with only its convolution (`conv_only`, or no act/norm/dropout): one child, `conv`.
final class ConvUnit: Module {
    let conv: Conv3d

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, bias: Bool, rng: inout RandomGenerator) {
        // MONAI's get_padding: (k − s + 1) / 2, truncated.
        let padding = (kernel - stride + 1) / 2
        conv = Conv3d(inChannels, outChannels, kernel: [kernel, kernel, kernel], stride: [stride, stride, stride],
                      padding: [padding, padding, padding], bias: bias, rng: &rng)
    }

    override var children: [(String, Module)] { [("conv", conv)] }

    func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }
}

/// MONAI's transposed `Convolution` (kernel = stride, no padding: an exact up-sampling).
final class TransposedConvUnit: Module {
    let conv: ConvTranspose3d

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, bias: Bool = false, rng: inout RandomGenerator) {
        conv = ConvTranspose3d(inChannels, outChannels, kernel: [kernel, kernel, kernel], stride: [kernel, kernel, kernel],
                               bias: bias, rng: &rng)
    }

    override var children: [(String, Module)] { [("conv", conv)] }

    func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }
}

/// MONAI's `get_norm_layer` for 3-D feature maps: instance or batch norm, under the norm's own key.
final class ChannelNorm: Module {
    private let instance: InstanceNorm3d?
    private let batch: BatchNorm3d?

    init(_ kind: NormKind, channels: Int) {
        switch kind {
        case .instance(let affine): instance = InstanceNorm3d(channels, affine: affine); batch = nil
        case .batch: instance = nil; batch = BatchNorm3d(channels)
        }
    }

    override var parameters: [(String, Parameter)] { instance?.parameters ?? batch?.parameters ?? [] }
    override var buffers: [(String, Buffer)] { batch?.buffers ?? [] }
    override func didChangeMode() { batch?.train(isTraining) }

    func callAsFunction(_ x: Tensor) -> Tensor { instance?(x) ?? batch!(x) }
}
