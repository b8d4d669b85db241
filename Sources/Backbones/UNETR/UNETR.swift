import Tensors

/// MONAI `UNETR` (Hatamizadeh et al. 2022): a ViT encoder whose hidden states 3, 6, 9 and output are
/// reshaped to feature maps and decoded with convolutional up-sampling blocks and skips.
public final class UNETR: Module, Backbone {
    public let config: BackboneConfig
    public let hooks = ForwardHooks()
    public var attachments: [(String, Module)] = []
    public var activationCheckpointing = false
    let args: UNETRConfig
    let vit: ViT
    let encoder1: UnetrBasicBlock
    let encoder2: UnetrPrUpBlock, encoder3: UnetrPrUpBlock, encoder4: UnetrPrUpBlock
    let decoder5: UnetrUpBlock, decoder4: UnetrUpBlock, decoder3: UnetrUpBlock, decoder2: UnetrUpBlock
    let out: UnetOutBlock

    public init(_ args: UNETRConfig, rng: inout RandomGenerator) throws {
        try args.validate()
        self.args = args
        config = .unetr(args)
        let (f, h, norm, res) = (args.featureSize, args.hiddenSize, args.normName, args.resBlock)
        vit = ViT(args, layers: 12, rng: &rng)
        encoder1 = UnetrBasicBlock(args.inChannels, f, norm: norm, residual: res, rng: &rng)
        encoder2 = UnetrPrUpBlock(h, 2 * f, numLayers: 2, norm: norm, convBlock: args.convBlock, residual: res, rng: &rng)
        encoder3 = UnetrPrUpBlock(h, 4 * f, numLayers: 1, norm: norm, convBlock: args.convBlock, residual: res, rng: &rng)
        encoder4 = UnetrPrUpBlock(h, 8 * f, numLayers: 0, norm: norm, convBlock: args.convBlock, residual: res, rng: &rng)
        decoder5 = UnetrUpBlock(h, 8 * f, norm: norm, residual: res, rng: &rng)
        decoder4 = UnetrUpBlock(8 * f, 4 * f, norm: norm, residual: res, rng: &rng)
        decoder3 = UnetrUpBlock(4 * f, 2 * f, norm: norm, residual: res, rng: &rng)
        decoder2 = UnetrUpBlock(2 * f, f, norm: norm, residual: res, rng: &rng)
        out = UnetOutBlock(f, args.outChannels, rng: &rng)
    }

    override public var children: [(String, Module)] {
        [("vit", vit), ("encoder1", encoder1), ("encoder2", encoder2), ("encoder3", encoder3), ("encoder4", encoder4),
         ("decoder5", decoder5), ("decoder4", decoder4), ("decoder3", decoder3), ("decoder2", decoder2), ("out", out)]
            + attachments
    }

    public var decoderModuleNames: [String] { ["decoder2", "decoder3", "decoder4", "decoder5", "out"] }
    public var encoderModuleName: String { "vit" }
    public func acceptsInput(size: [Int]) -> Bool { size == args.imgSize }

    /// Tokens [b, n, hidden] → feature map [b, hidden, g0, g1, g2].
    private func featureMap(_ tokens: Tensor) -> Tensor {
        let grid = args.imgSize.map { $0 / UNETRConfig.patchSize }
        return tokens.reshaped([tokens.shape[0]] + grid + [args.hiddenSize]).permuted([0, 4, 1, 2, 3])
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(acceptsInput(size: Array(x.shape[2...])), "UNETR expects inputs of size \(args.imgSize), got \(x.shape)")
        let c = activationCheckpointing
        let (tokens, hidden) = vit(x, checkpointing: c)
        let enc1 = encoder1.run([x], checkpointing: c) { [encoder1] in encoder1($0[0]) }
        let enc2 = encoder2.run([hidden[3]], checkpointing: c) { [self] in encoder2(featureMap($0[0])) }
        let enc3 = encoder3.run([hidden[6]], checkpointing: c) { [self] in encoder3(featureMap($0[0])) }
        let enc4 = encoder4.run([hidden[9]], checkpointing: c) { [self] in encoder4(featureMap($0[0])) }
        let dec3 = decoder5.run([tokens, enc4], checkpointing: c) { [self] in decoder5(featureMap($0[0]), skip: $0[1]) }
        let dec2 = decoder4.run([dec3, enc3], checkpointing: c) { [decoder4] in decoder4($0[0], skip: $0[1]) }
        let dec1 = decoder3.run([dec2, enc2], checkpointing: c) { [decoder3] in decoder3($0[0], skip: $0[1]) }
        let dec0 = decoder2.run([dec1, enc1], checkpointing: c) { [decoder2] in decoder2($0[0], skip: $0[1]) }
        return out(dec0)
    }
}
