import Backbones
import Tensors

/// A bottleneck attached to a whole transformer sub-block, serial (Houlsby: z + f(z) on the block's
/// output z) or parallel (AdaptFormer: block(x) + f(x) on the block's input x).
final class BlockBottleneckAdapter: BlockAdapter {
    enum Placement { case serial, parallel }
    let bottleneck: Bottleneck
    let placement: Placement

    init(_ bottleneck: Bottleneck, placement: Placement) {
        self.bottleneck = bottleneck
        self.placement = placement
    }

    var children: [(String, Module)] { bottleneck.children }
    var parameters: [(String, Parameter)] { [] }

    func output(_ x: Tensor, base: (Tensor) -> Tensor) -> Tensor {
        let z = base(x)
        return placement == .serial ? z + bottleneck(z) : z + bottleneck(x)
    }
}

/// The encoder's attention and/or MLP sub-blocks (names ending in `attn` / `mlp`), in order.
func findBlocks(_ kinds: Set<String>, in model: any Backbone, method: String) throws -> [(String, any AdaptableBlock)] {
    let encoder = model.encoderModuleName + "."
    let found: [(String, any AdaptableBlock)] = model.namedModules().compactMap { name, module in
        guard name.hasPrefix(encoder), let block = module as? any AdaptableBlock,
              let last = name.split(separator: ".").last, kinds.contains(String(last)) else { return nil }
        return (name, block)
    }
    guard !found.isEmpty else {
        throw PEFTError.noMatchingModules(method: method, pattern: kinds.sorted().description, nearby: [])
    }
    return found
}
