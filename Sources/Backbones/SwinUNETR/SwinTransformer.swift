import Tensors

/// MONAI `SwinTransformerBlock` on channel-last maps `[b, d, h, w, c]`:
/// x + drop_path(window attention of norm1(x)), then x + drop_path(mlp(norm2(x))).
/// The attention runs on the map padded to whole windows (after norm1, as MONAI), cyclically shifted
/// for odd blocks, and is cropped back.
public final class SwinTransformerBlock: Module {
    public let norm1: LayerNorm, norm2: LayerNorm
    public let attn: WindowAttention
    public let mlp: MLPBlock
    let dropPath: DropPath
    let window: [Int], shift: [Int]

    init(_ dim: Int, heads: Int, window: [Int], shift: [Int], mlpRatio: Double, qkvBias: Bool, drop: Double,
         attnDrop: Double, dropPath rate: Double, rng: inout RandomGenerator) {
        self.window = window
        self.shift = shift
        norm1 = LayerNorm(dim)
        attn = WindowAttention(dim, heads: heads, window: window, qkvBias: qkvBias, attnDrop: attnDrop, projDrop: drop,
                               rng: &rng)
        dropPath = DropPath(Float(rate), seed: rng.next())
        norm2 = LayerNorm(dim)
        mlp = MLPBlock(dim, Int(Double(dim) * mlpRatio), dropout: drop, sharedDropout: true, rng: &rng)
    }

    override public var children: [(String, Module)] {
        [("norm1", norm1), ("attn", attn), ("drop_path", dropPath), ("norm2", norm2), ("mlp", mlp)]
    }

    /// `mask`: the layer's shifted-window mask, used only when this block shifts.
    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        let h = x + dropPath(attentionBranch(x, mask: mask))
        return h + dropPath(mlp(norm2(h)))
    }

    private func attentionBranch(_ x: Tensor, mask: Tensor?) -> Tensor {
        let (b, c) = (x.shape[0], x.shape[4])
        let size = Array(x.shape[1...3])
        let (window, shift) = clippedWindow(size: size, window: self.window, shift: self.shift)
        let pads = (0..<3).map { (window[$0] - size[$0] % window[$0]) % window[$0] }
        var h = norm1(x).padded([(0, 0), (0, pads[0]), (0, pads[1]), (0, pads[2])])
        let padded = Array(h.shape[1...3])
        let shifted = shift.contains { $0 > 0 }
        if shifted { h = h.rolled(shifts: shift.map { -$0 }, axes: [1, 2, 3]) }
        let grid = (0..<3).map { padded[$0] / window[$0] }
        // window_partition: [b, D/wd, wd, H/wh, wh, W/ww, ww, c] → [b·nW, wd·wh·ww, c]
        let windows = h.reshaped([b, grid[0], window[0], grid[1], window[1], grid[2], window[2], c])
            .permuted([0, 1, 3, 5, 2, 4, 6, 7]).reshaped([b * grid.elementCount, window.elementCount, c])
        let attended = attn(windows, mask: shifted ? mask : nil)
        // window_reverse
        h = attended.reshaped([b, grid[0], grid[1], grid[2], window[0], window[1], window[2], c])
            .permuted([0, 1, 4, 2, 5, 3, 6, 7]).reshaped([b] + padded + [c])
        if shifted { h = h.rolled(shifts: shift, axes: [1, 2, 3]) }
        if pads.contains(where: { $0 > 0 }) { h = h.slice([nil, 0..<size[0], 0..<size[1], 0..<size[2]]) }
        return h
    }
}

/// MONAI `PatchMerging` (v0.9 order, "merging") and `PatchMergingV2` ("mergingv2") on channel-last
/// maps: the 8 voxels of each 2×2×2 cell concatenated along channels, layer norm, linear 8c → 2c.
public final class PatchMerging: Module {
    public let reduction: Linear
    public let norm: LayerNorm
    /// The (d, h, w) offsets of the 8 sub-volumes, in concatenation order.
    let offsets: [(Int, Int, Int)]

    static let mergingOrder = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)]
    static let mergingV2Order = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]

    init(_ dim: Int, mode: String, rng: inout RandomGenerator) {
        reduction = Linear(8 * dim, 2 * dim, bias: false, rng: &rng)
        norm = LayerNorm(8 * dim)
        offsets = mode == "mergingv2" ? Self.mergingV2Order : Self.mergingOrder
    }

    override public var children: [(String, Module)] { [("reduction", reduction), ("norm", norm)] }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, c) = (x.shape[0], x.shape[4])
        let x = x.padded([(0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, x.shape[3] % 2)])
        let half = (1...3).map { x.shape[$0] / 2 }
        let cells = x.reshaped([b, half[0], 2, half[1], 2, half[2], 2, c])
        let parts = offsets.map { od, oh, ow in
            cells.slice([nil, nil, od..<(od + 1), nil, oh..<(oh + 1), nil, ow..<(ow + 1)]).reshaped([b] + half + [c])
        }
        return reduction(norm(Tensor.concatenate(parts, axis: 4)))
    }
}

/// MONAI `BasicLayer`: one Swin stage on channel-first maps: the blocks (even ones plain, odd ones
/// shifted by half a window), then patch merging.
public final class BasicLayer: Module {
    public let blocks: ModuleList<SwinTransformerBlock>
    public let downsample: PatchMerging
    let window: [Int], shift: [Int]
    /// The last shifted-window mask, by padded size (sliding-window inference reuses one size).
    private var cachedMask: (dims: [Int], mask: Tensor)?

    init(_ dim: Int, depth: Int, heads: Int, window: [Int], dropPath: [Double], mlpRatio: Double, qkvBias: Bool,
         drop: Double, attnDrop: Double, downsample mode: String, rng: inout RandomGenerator) {
        self.window = window
        shift = window.map { $0 / 2 }
        var blocks: [SwinTransformerBlock] = []
        for i in 0..<depth {
            blocks.append(SwinTransformerBlock(dim, heads: heads, window: window, shift: i % 2 == 0 ? [0, 0, 0] : shift,
                                               mlpRatio: mlpRatio, qkvBias: qkvBias, drop: drop, attnDrop: attnDrop,
                                               dropPath: dropPath[i], rng: &rng))
        }
        self.blocks = ModuleList(blocks)
        downsample = PatchMerging(dim, mode: mode, rng: &rng)
    }

    override public var children: [(String, Module)] { [("blocks", blocks), ("downsample", downsample)] }

    /// `[b, c, d, h, w]` → `[b, 2c, d/2, h/2, w/2]`; `checkpointing`: each block and the merging
    /// as checkpointed blocks.
    func callAsFunction(_ x: Tensor, checkpointing: Bool = false) -> Tensor {
        let size = Array(x.shape[2...])
        let (window, shift) = clippedWindow(size: size, window: self.window, shift: self.shift)
        var h = x.permuted([0, 2, 3, 4, 1])
        let mask = blocks.count > 1 && shift.contains { $0 > 0 } ? shiftedMask(size: size, window: window, shift: shift) : nil
        for block in blocks.elements {
            h = block.run([h], checkpointing: checkpointing) { block($0[0], mask: mask) }
        }
        return downsample.run([h], checkpointing: checkpointing) { [downsample] in downsample($0[0]).permuted([0, 4, 1, 2, 3]) }
    }

    private func shiftedMask(size: [Int], window: [Int], shift: [Int]) -> Tensor {
        let dims = (0..<3).map { (size[$0] + window[$0] - 1) / window[$0] * window[$0] }
        if let cachedMask, cachedMask.dims == dims { return cachedMask.mask }
        let mask = shiftedWindowMask(dims: dims, window: window, shift: shift)
        cachedMask = (dims, mask)
        return mask
    }
}

/// MONAI `PatchEmbed`: a patch-sized strided convolution (inputs padded up to whole patches),
/// optionally followed by a layer norm of the tokens.
final class PatchEmbed: Module {
    let proj: Conv3d
    let norm: LayerNorm?
    let patch: Int

    init(inChannels: Int, embedDim: Int, patch: Int, norm: Bool, rng: inout RandomGenerator) {
        self.patch = patch
        proj = Conv3d(inChannels, embedDim, kernel: [patch, patch, patch], stride: [patch, patch, patch], rng: &rng)
        self.norm = norm ? LayerNorm(embedDim) : nil
    }

    override var children: [(String, Module)] { [("proj", proj)] + (norm.map { [("norm", $0)] } ?? []) }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let pads = (2...4).map { (0, (patch - x.shape[$0] % patch) % patch) }
        let y = proj(x.padded([(0, 0), (0, 0)] + pads))
        guard let norm else { return y }
        return norm(y.permuted([0, 2, 3, 4, 1])).permuted([0, 4, 1, 2, 3])
    }
}

/// MONAI `SwinTransformer` (as SwinUNETR builds it): patch embedding and four stages; returns the
/// five feature maps (embedding and each stage's output), each layer-normalised over channels
/// without parameters when `normalize` (MONAI's `proj_out`). With `use_v2`, a residual conv block
/// (`layers1c` … `layers4c`, instance norm) runs before each stage.
public final class SwinTransformer: Module {
    let patchEmbed: PatchEmbed
    let posDrop: Dropout
    public let layers: [ModuleList<BasicLayer>]
    let convLayers: [ModuleList<UnetrBasicBlock>]?

    init(_ config: SwinUNETRConfig, rng: inout RandomGenerator) {
        let f = config.featureSize, window = Array(repeating: config.windowSize, count: 3)
        patchEmbed = PatchEmbed(inChannels: config.inChannels, embedDim: f, patch: 2, norm: config.patchNorm, rng: &rng)
        posDrop = Dropout(Float(config.dropRate), seed: rng.next())
        // Stochastic depth grows linearly over all blocks (torch.linspace(0, rate, Σ depths)).
        let total = config.depths.reduce(0, +)
        let rates = (0..<total).map { total > 1 ? config.dropoutPathRate * Double($0) / Double(total - 1) : 0 }
        var layers: [ModuleList<BasicLayer>] = [], convLayers: [ModuleList<UnetrBasicBlock>] = []
        for stage in 0..<4 {
            let dim = f << stage, first = config.depths[..<stage].reduce(0, +)
            layers.append(ModuleList([BasicLayer(dim, depth: config.depths[stage], heads: config.numHeads[stage], window: window,
                                                 dropPath: Array(rates[first..<(first + config.depths[stage])]),
                                                 mlpRatio: config.mlpRatio, qkvBias: config.qkvBias, drop: config.dropRate,
                                                 attnDrop: config.attnDropRate, downsample: config.downsample, rng: &rng)]))
            if config.useV2 {
                convLayers.append(ModuleList([UnetrBasicBlock(dim, dim, norm: .instance(affine: false), residual: true, rng: &rng)]))
            }
        }
        self.layers = layers
        self.convLayers = config.useV2 ? convLayers : nil
    }

    override public var children: [(String, Module)] {
        var list: [(String, Module)] = [("patch_embed", patchEmbed), ("pos_drop", posDrop)]
        for (i, layer) in layers.enumerated() { list.append(("layers\(i + 1)", layer)) }
        for (i, layer) in (convLayers ?? []).enumerated() { list.append(("layers\(i + 1)c", layer)) }
        return list
    }

    func callAsFunction(_ x: Tensor, normalize: Bool, checkpointing: Bool = false) -> [Tensor] {
        var h = posDrop(patchEmbed(x))
        var outputs = [projOut(h, normalize: normalize)]
        for stage in 0..<4 {
            if let convLayers {
                let block = convLayers[stage][0]
                h = block.run([h], checkpointing: checkpointing) { block($0[0]) }
            }
            h = layers[stage][0](h, checkpointing: checkpointing)
            outputs.append(projOut(h, normalize: normalize))
        }
        return outputs
    }

    /// Layer norm over the channels of `[n, c, d, h, w]`, no affine parameters.
    private func projOut(_ x: Tensor, normalize: Bool) -> Tensor {
        guard normalize else { return x }
        return layerNorm(x.permuted([0, 2, 3, 4, 1]), weight: nil, bias: nil).permuted([0, 4, 1, 2, 3])
    }
}
