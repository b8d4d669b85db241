import Tensors

/// MONAI `UnetResBlock`: conv–norm–lrelu–conv–norm plus a (projected) residual, then lrelu.
final class UnetResBlock: Module {
    let conv1: ConvUnit, conv2: ConvUnit, norm1: ChannelNorm, norm2: ChannelNorm
    let conv3: ConvUnit?, norm3: ChannelNorm?

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, norm: NormKind, rng: inout RandomGenerator) {
        conv1 = ConvUnit(inChannels, outChannels, kernel: kernel, stride: stride, bias: false, rng: &rng)
        conv2 = ConvUnit(outChannels, outChannels, kernel: kernel, bias: false, rng: &rng)
        norm1 = ChannelNorm(norm, channels: outChannels)
        norm2 = ChannelNorm(norm, channels: outChannels)
        let projects = inChannels != outChannels || stride != 1
        conv3 = projects ? ConvUnit(inChannels, outChannels, kernel: 1, stride: stride, bias: false, rng: &rng) : nil
        norm3 = projects ? ChannelNorm(norm, channels: outChannels) : nil
    }

    override var children: [(String, Module)] {
        [("conv1", conv1), ("conv2", conv2), ("norm1", norm1), ("norm2", norm2)]
            + (conv3.map { [("conv3", $0)] } ?? []) + (norm3.map { [("norm3", $0)] } ?? [])
    }

    func callAsFunction(_ x: Tensor, activation: BlockActivation) -> Tensor {
        let out = norm2(conv2(activation(norm1(conv1(x)))))
        var residual = x
        if let conv3, let norm3 { residual = norm3(conv3(x)) }
        return activation(out + residual)
    }
}

/// MONAI `UnetBasicBlock`: conv–norm–lrelu twice.
final class UnetBasicBlock: Module {
    let conv1: ConvUnit, conv2: ConvUnit, norm1: ChannelNorm, norm2: ChannelNorm

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, norm: NormKind, rng: inout RandomGenerator) {
        conv1 = ConvUnit(inChannels, outChannels, kernel: kernel, stride: stride, bias: false, rng: &rng)
        conv2 = ConvUnit(outChannels, outChannels, kernel: kernel, bias: false, rng: &rng)
        norm1 = ChannelNorm(norm, channels: outChannels)
        norm2 = ChannelNorm(norm, channels: outChannels)
    }

    override var children: [(String, Module)] { [("conv1", conv1), ("conv2", conv2), ("norm1", norm1), ("norm2", norm2)] }

    func callAsFunction(_ x: Tensor, activation: BlockActivation) -> Tensor {
        activation(norm2(conv2(activation(norm1(conv1(x))))))
    }
}

/// A residual or plain double-convolution block (the `res_block` switch).
final class ConvBlock: Module {
    private let residual: UnetResBlock?, plain: UnetBasicBlock?

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 3, stride: Int = 1, norm: NormKind, residual: Bool,
         rng: inout RandomGenerator) {
        self.residual = residual ? UnetResBlock(inChannels, outChannels, kernel: kernel, stride: stride, norm: norm, rng: &rng) : nil
        plain = residual ? nil : UnetBasicBlock(inChannels, outChannels, kernel: kernel, stride: stride, norm: norm, rng: &rng)
    }

    // Transparent: its block's children sit directly under this key, as in MONAI.
    override var children: [(String, Module)] { residual?.children ?? plain!.children }

    /// MONAI's `lrelu` of the block (no parameters, so not a child); see `BlockActivation`.
    var activation = BlockActivation.monai

    func callAsFunction(_ x: Tensor) -> Tensor { residual?(x, activation: activation) ?? plain!(x, activation: activation) }
}

/// MONAI `UnetrBasicBlock`: one residual or plain block under the key `layer`.
final class UnetrBasicBlock: Module {
    let layer: ConvBlock

    init(_ inChannels: Int, _ outChannels: Int, norm: NormKind, residual: Bool, rng: inout RandomGenerator) {
        layer = ConvBlock(inChannels, outChannels, norm: norm, residual: residual, rng: &rng)
    }

    override var children: [(String, Module)] { [("layer", layer)] }

    func callAsFunction(_ x: Tensor) -> Tensor { layer(x) }
}

/// MONAI `UnetrPrUpBlock`: an initial ×2 transposed convolution, then `numLayers` stages of
/// (×2 transposed convolution, conv block), or of bare transposed convolutions without `convBlock`.
final class UnetrPrUpBlock: Module {
    final class Stage: Module {
        let up: TransposedConvUnit
        let block: ConvBlock?

        init(_ channels: Int, norm: NormKind, convBlock: Bool, residual: Bool, rng: inout RandomGenerator) {
            up = TransposedConvUnit(channels, channels, kernel: 2, rng: &rng)
            block = convBlock ? ConvBlock(channels, channels, norm: norm, residual: residual, rng: &rng) : nil
        }

        // An nn.Sequential (children "0", "1") with a conv block, else the transposed convolution itself.
        override var children: [(String, Module)] { block.map { [("0", up), ("1", $0)] } ?? up.children }

        func callAsFunction(_ x: Tensor) -> Tensor {
            let y = up(x)
            return block?(y) ?? y
        }
    }

    let transpConvInit: TransposedConvUnit
    let blocks: ModuleList<Stage>

    init(_ inChannels: Int, _ outChannels: Int, numLayers: Int, norm: NormKind, convBlock: Bool, residual: Bool,
         rng: inout RandomGenerator) {
        transpConvInit = TransposedConvUnit(inChannels, outChannels, kernel: 2, rng: &rng)
        var stages: [Stage] = []
        for _ in 0..<numLayers {
            stages.append(Stage(outChannels, norm: norm, convBlock: convBlock, residual: residual, rng: &rng))
        }
        blocks = ModuleList(stages)
    }

    override var children: [(String, Module)] { [("transp_conv_init", transpConvInit), ("blocks", blocks)] }

    func callAsFunction(_ x: Tensor) -> Tensor { blocks.elements.reduce(transpConvInit(x)) { $1($0) } }
}

/// MONAI `UnetrUpBlock`: ×2 transposed convolution, concatenation with the skip, conv block.
final class UnetrUpBlock: Module {
    let transpConv: TransposedConvUnit
    let convBlock: ConvBlock

    init(_ inChannels: Int, _ outChannels: Int, norm: NormKind, residual: Bool, rng: inout RandomGenerator) {
        transpConv = TransposedConvUnit(inChannels, outChannels, kernel: 2, rng: &rng)
        convBlock = ConvBlock(2 * outChannels, outChannels, norm: norm, residual: residual, rng: &rng)
    }

    override var children: [(String, Module)] { [("transp_conv", transpConv), ("conv_block", convBlock)] }

    func callAsFunction(_ x: Tensor, skip: Tensor) -> Tensor {
        convBlock(Tensor.concatenate([transpConv(x), skip], axis: 1))
    }
}

/// MONAI `UnetOutBlock`: a 1×1×1 convolution with bias, under `conv.conv`.
final class UnetOutBlock: Module {
    let conv: ConvUnit

    init(_ inChannels: Int, _ outChannels: Int, rng: inout RandomGenerator) {
        conv = ConvUnit(inChannels, outChannels, kernel: 1, bias: true, rng: &rng)
    }

    override var children: [(String, Module)] { [("conv", conv)] }

    func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }
}
