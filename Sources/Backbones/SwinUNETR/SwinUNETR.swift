import Tensors

/// MONAI `SwinUNETR` (Hatamizadeh et al. 2022; `use_v2`: He et al. 2023): a Swin transformer
/// encoder whose five multi-scale feature maps feed residual conv encoders and a U-shaped decoder.
/// Returns logits (no softmax). Inputs: every spatial size a multiple of 32.
public final class SwinUNETR: Module, Backbone {
    public let config: BackboneConfig
    public let hooks = ForwardHooks()
    public var attachments: [(String, Module)] = []
    public var activationCheckpointing = false
    let args: SwinUNETRConfig
    public let swinViT: SwinTransformer
    let encoder1: UnetrBasicBlock, encoder2: UnetrBasicBlock, encoder3: UnetrBasicBlock, encoder4: UnetrBasicBlock
    let encoder10: UnetrBasicBlock
    let decoder5: UnetrUpBlock, decoder4: UnetrUpBlock, decoder3: UnetrUpBlock, decoder2: UnetrUpBlock
    let decoder1: UnetrUpBlock
    let out: UnetOutBlock

    /// patch_size 2, then four ×2 patch mergings.
    public static let sizeMultiple = 32

    public init(_ args: SwinUNETRConfig, rng: inout RandomGenerator) throws {
        try args.validate()
        self.args = args
        config = .swinunetr(args)
        let (f, norm) = (args.featureSize, args.normName)
        swinViT = SwinTransformer(args, rng: &rng)
        encoder1 = UnetrBasicBlock(args.inChannels, f, norm: norm, residual: true, rng: &rng)
        encoder2 = UnetrBasicBlock(f, f, norm: norm, residual: true, rng: &rng)
        encoder3 = UnetrBasicBlock(2 * f, 2 * f, norm: norm, residual: true, rng: &rng)
        encoder4 = UnetrBasicBlock(4 * f, 4 * f, norm: norm, residual: true, rng: &rng)
        encoder10 = UnetrBasicBlock(16 * f, 16 * f, norm: norm, residual: true, rng: &rng)
        decoder5 = UnetrUpBlock(16 * f, 8 * f, norm: norm, residual: true, rng: &rng)
        decoder4 = UnetrUpBlock(8 * f, 4 * f, norm: norm, residual: true, rng: &rng)
        decoder3 = UnetrUpBlock(4 * f, 2 * f, norm: norm, residual: true, rng: &rng)
        decoder2 = UnetrUpBlock(2 * f, f, norm: norm, residual: true, rng: &rng)
        decoder1 = UnetrUpBlock(f, f, norm: norm, residual: true, rng: &rng)
        out = UnetOutBlock(f, args.outChannels, rng: &rng)
    }

    override public var children: [(String, Module)] {
        [("swinViT", swinViT), ("encoder1", encoder1), ("encoder2", encoder2), ("encoder3", encoder3),
         ("encoder4", encoder4), ("encoder10", encoder10), ("decoder5", decoder5), ("decoder4", decoder4),
         ("decoder3", decoder3), ("decoder2", decoder2), ("decoder1", decoder1), ("out", out)] + attachments
    }

    public var decoderModuleNames: [String] { ["decoder1", "decoder2", "decoder3", "decoder4", "decoder5", "out"] }
    public var encoderModuleName: String { "swinViT" }

    /// MONAI's `_check_input_size`: every spatial size divisible by patch_size⁵ = 32.
    public func acceptsInput(size: [Int]) -> Bool {
        size.count == 3 && size.allSatisfy { $0 > 0 && $0 % Self.sizeMultiple == 0 }
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 5 && x.shape[1] == args.inChannels && acceptsInput(size: Array(x.shape[2...])),
                     "SwinUNETR expects [N, \(args.inChannels), D, H, W] with D, H, W divisible by \(Self.sizeMultiple); got \(x.shape)")
        let c = activationCheckpointing
        let hidden = swinViT(x, normalize: args.normalize, checkpointing: c)
        func encoded(_ block: UnetrBasicBlock, _ input: Tensor) -> Tensor {
            block.run([input], checkpointing: c) { block($0[0]) }
        }
        func decoded(_ block: UnetrUpBlock, _ input: Tensor, skip: Tensor) -> Tensor {
            block.run([input, skip], checkpointing: c) { block($0[0], skip: $0[1]) }
        }
        let enc0 = encoded(encoder1, x)
        let enc1 = encoded(encoder2, hidden[0])
        let enc2 = encoded(encoder3, hidden[1])
        let enc3 = encoded(encoder4, hidden[2])
        let dec4 = encoded(encoder10, hidden[4])
        let dec3 = decoded(decoder5, dec4, skip: hidden[3])
        let dec2 = decoded(decoder4, dec3, skip: enc3)
        let dec1 = decoded(decoder3, dec2, skip: enc2)
        let dec0 = decoded(decoder2, dec1, skip: enc1)
        return out(decoded(decoder1, dec0, skip: enc0))
    }
}
