/// Intensity steps on an image's voxels: percentile clipping and normalisation.
enum IntensityNormalization {
    /// Percentile of `values` (0–100) with linear interpolation between order statistics (NumPy's default).
    static func percentile(_ sorted: [Float], _ q: Double) -> Float {
        guard !sorted.isEmpty else { return 0 }
        let position = q / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let t = Float(position - Double(lower))
        return sorted[lower] + (sorted[upper] - sorted[lower]) * t
    }

    /// The voxels the normalisation's statistics use: those > 0 for `zscore_nonzero`, else all.
    static func statisticsMask(_ mode: PreprocessingSpec.Normalization) -> (Float) -> Bool {
        mode == .zscoreNonzero ? { $0 > 0 } : { _ in true }
    }

    /// Clips to the `[low, high]` percentiles of the voxels the normalisation uses (others untouched).
    static func clip(_ voxels: inout [Float], percentiles: [Double], mode: PreprocessingSpec.Normalization) {
        let use = statisticsMask(mode)
        let sorted = voxels.filter(use).sorted()
        guard !sorted.isEmpty else { return }
        let low = percentile(sorted, percentiles[0])
        let high = percentile(sorted, percentiles[1])
        for n in voxels.indices where use(voxels[n]) {
            voxels[n] = min(max(voxels[n], low), high)
        }
    }

    /// Normalises in place and returns the background value (what padding uses): 0 for
    /// `zscore_nonzero` and `minmax`, the minimum for `zscore` and `none`.
    @discardableResult
    static func normalize(_ voxels: inout [Float], mode: PreprocessingSpec.Normalization) -> Float {
        switch mode {
        case .none:
            return voxels.min() ?? 0
        case .minmax:
            guard let low = voxels.min(), let high = voxels.max() else { return 0 }
            let range = high > low ? high - low : 1
            for n in voxels.indices { voxels[n] = (voxels[n] - low) / range }
            return 0
        case .zscore, .zscoreNonzero:
            let nonzero = mode == .zscoreNonzero
            var sum = 0.0, sumSquares = 0.0, count = 0
            for v in voxels where !nonzero || v > 0 {
                sum += Double(v)
                sumSquares += Double(v) * Double(v)
                count += 1
            }
            guard count > 0 else {
                for n in voxels.indices { voxels[n] = 0 }
                return 0
            }
            let mean = sum / Double(count)
            let variance = max(0, sumSquares / Double(count) - mean * mean)
            let std = variance.squareRoot()
            let (m, s) = (Float(mean), Float(std > 1e-12 ? 1 / std : 1))
            if nonzero {
                for n in voxels.indices { voxels[n] = voxels[n] > 0 ? (voxels[n] - m) * s : 0 }
                return 0
            }
            var low = Float.infinity
            for n in voxels.indices {
                voxels[n] = (voxels[n] - m) * s
                low = min(low, voxels[n])
            }
            return low
        }
    }
}
