import Tensors

/// Placeholder until the Swin implementation lands: configuration is validated, construction fails clearly.
public final class SwinUNETR: Module, Backbone {
    public let config: BackboneConfig
    public let hooks = ForwardHooks()
    public var attachments: [(String, Module)] = []
    public init(_ args: SwinUNETRConfig, rng: inout RandomGenerator) throws {
        try args.validate()
        config = .swinunetr(args)
        throw BackboneError.invalidConfiguration("SwinUNETR is not built yet")
    }
    public var decoderModuleNames: [String] { [] }
    public var encoderModuleName: String { "swinViT" }
    public func acceptsInput(size: [Int]) -> Bool { false }
    public func forward(_ x: Tensor) -> Tensor { x }
}
