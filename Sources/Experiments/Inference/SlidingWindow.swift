import Foundation
import Tensors

/// MONAI's `sliding_window_inference`: windows of `roi` voxels stepped by roi·(1 − overlap), the last
/// window clamped to the image edge, each window's output weighted by a Gaussian importance map
/// (σ = 0.125·roi, as MONAI's default) and the weighted outputs averaged. Images smaller than the
/// window are zero-padded symmetrically and the result cropped back. `tiling: cover` places the windows
/// as the authors' `tailor_and_concat` instead (`coverStarts`), averaged uniformly.
public struct SlidingWindow: Sendable, Equatable {
    public enum Weighting: String, Codable, Sendable { case gaussian, constant }
    /// Where the windows go.
    public enum Tiling: String, NamedChoice, Sendable {
        /// MONAI's: stepped by roi·(1 − overlap), the last one flush with the edge.
        case sliding
        /// The authors' `tailor_and_concat`: the fewest windows that cover each axis, first and last
        /// flush with the edges, the others evenly between; every window weighs the same.
        case cover
    }
    /// Window size in tensor axis order (k, j, i).
    public var roi: [Int]
    public var overlap: Double
    public var weighting: Weighting
    public var tiling: Tiling
    public var sigmaScale = 0.125

    public init(roi: [Int], overlap: Double = 0.5, weighting: Weighting = .gaussian, tiling: Tiling = .sliding) {
        (self.roi, self.overlap, self.tiling) = (roi, overlap, tiling)
        self.weighting = tiling == .cover ? .constant : weighting
    }

    /// Window starts along one axis of `size` voxels for `tiling: cover`: ⌈size / window⌉ windows, the
    /// first at 0 and the last at size − window, the others evenly between (rounded down); one at 0
    /// when the axis fits in a window (a smaller axis is padded first). 128 on 182 → [0, 54]; on 218 →
    /// [0, 90].
    public static func coverStarts(size: Int, window: Int) -> [Int] {
        guard size > window else { return [0] }
        let count = (size + window - 1) / window
        return (0..<count).map { $0 * (size - window) / (count - 1) }
    }

    /// Window start positions along one axis of `size` voxels (MONAI's scan interval and slicing).
    public static func starts(size: Int, window: Int, overlap: Double) -> [Int] {
        guard size > window else { return [0] }
        let interval = max(1, Int(Double(window) * (1 - overlap)))
        let count = Int((Double(size - window) / Double(interval)).rounded(.up)) + 1
        var starts: [Int] = []
        for i in 0..<count {
            let start = min(i * interval, size - window)
            if starts.last != start { starts.append(start) }
        }
        return starts
    }

    /// The importance of each voxel of a window, highest at the centre.
    public func importanceMap() -> [Float] {
        let (d, h, w) = (roi[0], roi[1], roi[2])
        guard weighting == .gaussian else { return [Float](repeating: 1, count: d * h * w) }
        func profile(_ n: Int) -> [Double] {
            let sigma = sigmaScale * Double(n), centre = Double(n - 1) / 2
            return (0..<n).map { exp(-0.5 * pow((Double($0) - centre) / sigma, 2)) }
        }
        let (pd, ph, pw) = (profile(d), profile(h), profile(w))
        var map = [Float](repeating: 0, count: d * h * w)
        var peak: Float = 0
        for z in 0..<d { for y in 0..<h { for x in 0..<w {
            let v = Float(pd[z] * ph[y] * pw[x])
            map[(z * h + y) * w + x] = v
            peak = max(peak, v)
        }}}
        // Normalised to a peak of 1; zeros lifted to the smallest positive value, as MONAI does.
        let positiveMinimum = map.filter { $0 > 0 }.min() ?? 1
        return map.map { max($0 / peak, positiveMinimum / peak) }
    }

    /// Class probabilities [1, C, k, j, i] for an image [1, channels, k, j, i], computed window by window
    /// with `predict` (logits for a window [1, channels, roi…] → [1, C, roi…]), softmax applied per window.
    public func probabilities(for image: Tensor, classes: Int, predict: (Tensor) -> Tensor) -> Tensor {
        precondition(image.rank == 5 && image.shape[0] == 1, "sliding window over one image [1, C, D, H, W]")
        let original = Array(image.shape[2...])
        // Pad each axis up to the window, symmetrically (MONAI's constant padding).
        let padding = (0..<3).map { axis -> (Int, Int) in
            let missing = max(0, roi[axis] - original[axis])
            return (missing / 2, missing - missing / 2)
        }
        let padded = image.padded([(0, 0), (0, 0)] + padding)
        let size = Array(padded.shape[2...])
        let importance = importanceMap()
        let windowVolume = roi.elementCount, volume = size.elementCount
        var accumulated = [Float](repeating: 0, count: classes * volume)
        var weights = [Float](repeating: 0, count: volume)
        let starts = (0..<3).map { axis in
            tiling == .cover ? Self.coverStarts(size: size[axis], window: roi[axis])
                : Self.starts(size: size[axis], window: roi[axis], overlap: overlap)
        }
        for z0 in starts[0] { for y0 in starts[1] { for x0 in starts[2] {
            let window = padded.slice([nil, nil, z0..<(z0 + roi[0]), y0..<(y0 + roi[1]), x0..<(x0 + roi[2])])
            let probabilities = softmax(predict(window), axis: 1)
            for z in 0..<roi[0] { for y in 0..<roi[1] {
                let source = (z * roi[1] + y) * roi[2]
                let target = ((z0 + z) * size[1] + y0 + y) * size[2] + x0
                for x in 0..<roi[2] {
                    let w = importance[source + x]
                    weights[target + x] += w
                    for c in 0..<classes {
                        accumulated[c * volume + target + x] += w * probabilities.pointer[c * windowVolume + source + x]
                    }
                }
            }}
        }}}
        for c in 0..<classes { for v in 0..<volume { accumulated[c * volume + v] /= weights[v] } }
        let full = Tensor(accumulated, shape: [1, classes] + size)
        let crop = (0..<3).map { padding[$0].0..<(padding[$0].0 + original[$0]) }
        return full.slice([nil, nil] + crop)
    }
}

/// Test-time augmentation by mirroring: the mean of the probabilities over the 8 flip combinations of
/// the three spatial axes (nnU-Net's mirroring), each prediction flipped back before averaging.
public func flipAveraged(_ image: Tensor, _ predict: (Tensor) -> Tensor) -> Tensor {
    var total: Tensor? = nil
    for mask in 0..<8 {
        let axes = (0..<3).filter { mask & (1 << $0) != 0 }.map { $0 + 2 }
        let flipped = predict(image.flipped(axes: axes)).flipped(axes: axes)
        total = total.map { $0 + flipped } ?? flipped
    }
    return total! * (1.0 / 8)
}
