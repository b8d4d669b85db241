import Tensors

/// A segmentation network: logits [N, out_channels, D, H, W] from an image [N, in_channels, D, H, W].
public protocol Backbone: Module {
    var config: BackboneConfig { get }
    /// Run before every forward pass (e.g. LoRA-PT rebuilds its weights from trained factors here).
    var hooks: ForwardHooks { get }
    /// Modules that PEFT methods add at the top level, listed after the network's own children
    /// (e.g. LoRA-PT's factors under `lora_pt.*`, LoTR's shared factors under `lotr.*`).
    var attachments: [(String, Module)] { get set }
    func forward(_ x: Tensor) -> Tensor
    /// Recompute each named block's forward in the backward pass instead of keeping its tensors
    /// (training option `activation_checkpointing`): less memory, one more forward pass, the same
    /// gradients bit for bit. UNETR: each transformer layer, encoder and decoder block; SwinUNETR:
    /// each Swin block, patch merging, encoder and decoder block.
    var activationCheckpointing: Bool { get set }
    /// Top-level modules the papers count as "the decoder" (it includes the output block).
    var decoderModuleNames: [String] { get }
    /// The top-level module holding the transformer encoder ("vit" or "swinViT").
    var encoderModuleName: String { get }
    /// Spatial sizes accepted by `forward` (UNETR: exactly img_size; SwinUNETR: multiples of 32).
    func acceptsInput(size: [Int]) -> Bool
}

extension Backbone {
    public func callAsFunction(_ x: Tensor) -> Tensor {
        hooks.runAll()
        return forward(x)
    }

    /// The module whose single output convolution maps features to class logits.
    public var outModuleName: String { "out" }
}

/// Closures run before each forward pass, in order of registration.
public final class ForwardHooks {
    private var hooks: [(name: String, run: () -> Void)] = []

    public init() {}

    public func add(_ name: String, _ run: @escaping () -> Void) { hooks.append((name, run)) }
    public func remove(_ name: String) { hooks.removeAll { $0.name == name } }
    public func runAll() { for hook in hooks { hook.run() } }
    public var names: [String] { hooks.map(\.name) }
}

/// Builds a backbone with freshly initialised weights; `seed` drives initialisation and dropout.
public func makeBackbone(_ config: BackboneConfig, seed: UInt64 = 0) throws -> any Backbone {
    var rng = RandomGenerator(seed: seed, stream: "init")
    switch config {
    case .unetr(let args): return try UNETR(args, rng: &rng)
    case .swinunetr(let args): return try SwinUNETR(args, rng: &rng)
    }
}
