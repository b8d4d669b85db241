import Foundation
import Tensors

/// MONAI `WindowAttention` (Liu et al., Swin Transformer): multi-head self-attention inside each
/// window, with a learned relative-position bias per head and, for shifted windows, an additive mask
/// that keeps regions which the cyclic shift brought together from attending to each other.
///
/// Input and output are windows `[windows, n, c]`, all windows of the batch in one batched product.
public final class WindowAttention: Module, AdaptableBlock {
    public let qkv: Linear, proj: Linear
    /// `[(2·wd − 1)(2·wh − 1)(2·ww − 1), heads]`, read through `relative_position_index`.
    public let relativePositionBiasTable: Parameter
    /// The int64 buffer MONAI saves: `[wd·wh·ww, wd·wh·ww]` rows of the table, computed from the
    /// configured window; never trained.
    let relativePositionIndex: Buffer
    private let index: [Int]
    let heads: Int, window: [Int]
    let attnDrop: Dropout, projDrop: Dropout
    public var adapter: (any BlockAdapter)?

    init(_ dim: Int, heads: Int, window: [Int], qkvBias: Bool, attnDrop: Double, projDrop: Double,
         rng: inout RandomGenerator) {
        self.heads = heads
        self.window = window
        let rows = window.map { 2 * $0 - 1 }.elementCount
        index = swinRelativePositionIndex(window: window)
        relativePositionIndex = Buffer(Tensor(index.map(Float.init), shape: [window.elementCount, window.elementCount]),
                                       kind: .int64)
        // MONAI's construction order: qkv, proj, then trunc_normal_ of the table (std 0.02).
        qkv = Linear(dim, 3 * dim, bias: qkvBias, rng: &rng)
        proj = Linear(dim, dim, rng: &rng)
        relativePositionBiasTable = Parameter(.truncatedNormal([rows, heads], std: 0.02, using: &rng))
        self.attnDrop = Dropout(Float(attnDrop), seed: rng.next())
        self.projDrop = Dropout(Float(projDrop), seed: rng.next())
    }

    public var width: Int { qkv.inFeatures }

    override public var parameters: [(String, Parameter)] {
        [("relative_position_bias_table", relativePositionBiasTable)] + (adapter?.parameters ?? [])
    }
    override public var buffers: [(String, Buffer)] { [("relative_position_index", relativePositionIndex)] }
    override public var children: [(String, Module)] {
        [("qkv", qkv), ("attn_drop", attnDrop), ("proj", proj), ("proj_drop", projDrop)] + (adapter?.children ?? [])
    }

    /// `x`: windows `[b·nW, n, c]`; `mask`: `[nW, n, n]` (0 or −100) for shifted windows, else nil.
    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        let base: (Tensor) -> Tensor = { self.attend($0, mask: mask) }
        return adapter?.output(x, base: base) ?? base(x)
    }

    /// The relative-position bias `[heads, n, n]` of a window of n tokens. Like MONAI, a window
    /// clipped to a small feature map reads the top-left n×n corner of the full window's index.
    func relativePositionBias(tokens n: Int) -> Tensor {
        let full = window.elementCount
        var rows: [Int] = []
        rows.reserveCapacity(n * n)
        for i in 0..<n { rows += index[(i * full)..<(i * full + n)] }
        return gatherRows(relativePositionBiasTable.value, indices: rows).reshaped([n, n, heads]).permuted([2, 0, 1])
    }

    /// Windows are grouped as [batch, windows, heads, n, ·] so the [windows, heads, n, n] bias (and the
    /// [heads, n, n] one) broadcasts over the batch without reshaping any score-sized tensor.
    private func attend(_ x: Tensor, mask: Tensor?) -> Tensor {
        let (count, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        let headDim = c / heads
        let windows = mask?.shape[0] ?? 1
        precondition(count % windows == 0, "\(count) windows for a mask of \(windows)")
        let batch = count / windows
        // "b n (qkv h d) -> qkv b h n d", with b split into (batch, windows)
        let parts = qkv(x).reshaped([batch, windows, n, 3, heads, headDim]).permuted([3, 0, 1, 4, 2, 5])
            .split(sizes: [1, 1, 1], axis: 0).map { $0.reshaped([batch, windows, heads, n, headDim]) }
        let q = parts[0] * Float(pow(Double(headDim), -0.5))          // MONAI scales q first
        let bias = relativePositionBias(tokens: n)                         // [heads, n, n]
        let windowMask = mask?.reshaped([windows, 1, n, n])
        let attended: Tensor                                               // [batch, windows, heads, n, d]
        if attnDrop.isTraining && attnDrop.probability > 0 {
            var scores = matmul(q, parts[1], transposeB: true) + bias    // [batch, windows, heads, n, n]
            if let windowMask { scores = scores + windowMask }
            attended = matmul(attnDrop(softmax(scores, axis: -1)), parts[2])
        } else {
            // One fused op: no score-sized tensor is made or kept (the backward recomputes them).
            attended = scaledDotProductAttention(query: q, key: parts[1], value: parts[2], scale: 1, bias: bias,
                                                 mask: windowMask)
        }
        return projDrop(proj(attended.permuted([0, 1, 3, 2, 4]).reshaped([count, n, c])))
    }
}

/// MONAI's `relative_position_index` for a window (row-major over (d, h, w) token positions):
/// index[i, j] = Σ_axis (pos_i − pos_j + w_axis − 1) · (stride of that axis in the table).
func swinRelativePositionIndex(window: [Int]) -> [Int] {
    let n = window.elementCount
    let coords: [[Int]] = (0..<n).map { p in [p / (window[1] * window[2]), (p / window[2]) % window[1], p % window[2]] }
    let tableStrides = [(2 * window[1] - 1) * (2 * window[2] - 1), 2 * window[2] - 1, 1]
    var index = [Int](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n {
            var row = 0
            for axis in 0..<3 { row += (coords[i][axis] - coords[j][axis] + window[axis] - 1) * tableStrides[axis] }
            index[i * n + j] = row
        }
    }
    return index
}

/// MONAI's `get_window_size`: along an axis no longer than the window, the window shrinks to the
/// axis and the shift becomes 0.
func clippedWindow(size: [Int], window: [Int], shift: [Int]) -> (window: [Int], shift: [Int]) {
    var window = window, shift = shift
    for axis in size.indices where size[axis] <= window[axis] {
        window[axis] = size[axis]
        shift[axis] = 0
    }
    return (window, shift)
}

/// MONAI's `compute_mask` for a padded map `dims` = (D, H, W): region labels from the slices
/// (0..<D−w), (D−w..<D−s), (D−s..<D) per axis (Python slice semantics, so a shift of 0 makes the last
/// slice the whole axis), then −100 between tokens of a window whose labels differ. `[nW, n, n]`.
func shiftedWindowMask(dims: [Int], window: [Int], shift: [Int]) -> Tensor {
    // The label of a position is 9·a + 3·b + c with a, b, c the last slice (in loop order) covering
    // it along each axis: the loops assign products of slices, later ones overwriting earlier ones.
    func lastSlice(axis: Int) -> [Int] {
        let length = dims[axis], w = window[axis], s = shift[axis]
        func resolve(_ i: Int) -> Int { i < 0 ? max(length + i, 0) : min(i, length) }
        let slices: [Range<Int>] = [
            0..<resolve(-w),
            resolve(-w)..<max(resolve(-w), resolve(-s)),           // slice(-w, -s); -0 is 0
            resolve(-s)..<length,                                  // slice(-s, None)
        ]
        var label = [Int](repeating: 0, count: length)
        for (k, range) in slices.enumerated() { for p in range { label[p] = k } }
        return label
    }
    let (ld, lh, lw) = (lastSlice(axis: 0), lastSlice(axis: 1), lastSlice(axis: 2))
    let grid = (0..<3).map { dims[$0] / window[$0] }
    let n = window.elementCount, windows = grid.elementCount
    let mask = Tensor(zeros: [windows, n, n])
    var labels = [Int](repeating: 0, count: n)
    for wi in 0..<windows {
        let (gd, gh, gw) = (wi / (grid[1] * grid[2]), (wi / grid[2]) % grid[1], wi % grid[2])
        for t in 0..<n {
            let (td, th, tw) = (t / (window[1] * window[2]), (t / window[2]) % window[1], t % window[2])
            labels[t] = 9 * ld[gd * window[0] + td] + 3 * lh[gh * window[1] + th] + lw[gw * window[2] + tw]
        }
        let out = mask.pointer + wi * n * n
        for i in 0..<n { for j in 0..<n where labels[i] != labels[j] { out[i * n + j] = -100 } }
    }
    return mask
}
