import Foundation

/// Resampling to a voxel size: trilinear for images, nearest neighbour for labels. The first voxel's
/// centre stays where it is, each axis gets round(n · old / new) voxels (at least 1), and samples past
/// the last voxel repeat the edge (MONAI `Spacing` with border padding).
enum Resampling {
    /// Output size and, per axis, the input coordinate of each output voxel.
    static func plan(size: [Int], from old: [Double], to new: [Double]) -> (size: [Int], coordinates: [[Double]]) {
        var outSize: [Int] = []
        var coordinates: [[Double]] = []
        for axis in 0..<3 {
            let ratio = new[axis] / old[axis]
            let n = max(1, Int((Double(size[axis]) / ratio).rounded()))
            outSize.append(n)
            coordinates.append((0..<n).map { min(Double($0) * ratio, Double(size[axis] - 1)) })
        }
        return (outSize, coordinates)
    }

    /// Trilinear interpolation of `voxels` (size (i, j, k)) at the separable coordinates.
    static func trilinear(_ voxels: [Float], size: [Int], coordinates: [[Double]]) -> [Float] {
        let weights = coordinates.enumerated().map { axis, coords in
            coords.map { x -> (Int, Int, Float) in
                let lower = min(Int(x.rounded(.down)), size[axis] - 1)
                let upper = min(lower + 1, size[axis] - 1)
                return (lower, upper, Float(x - Double(lower)))
            }
        }
        let (nx, ny) = (size[0], size[0] * size[1])
        let outCount = coordinates.reduce(1) { $0 * $1.count }
        return [Float](unsafeUninitializedCapacity: outCount) { buffer, initialized in
            voxels.withUnsafeBufferPointer { src in
                var n = 0
                for (k0, k1, wk) in weights[2] {
                    for (j0, j1, wj) in weights[1] {
                        let rows = (k0 * ny + j0 * nx, k0 * ny + j1 * nx, k1 * ny + j0 * nx, k1 * ny + j1 * nx)
                        let w = ((1 - wk) * (1 - wj), (1 - wk) * wj, wk * (1 - wj), wk * wj)
                        for (i0, i1, wi) in weights[0] {
                            func at(_ row: Int) -> Float { src[row + i0] * (1 - wi) + src[row + i1] * wi }
                            buffer[n] = w.0 * at(rows.0) + w.1 * at(rows.1) + w.2 * at(rows.2) + w.3 * at(rows.3)
                            n += 1
                        }
                    }
                }
            }
            initialized = outCount
        }
    }

    /// Nearest-neighbour sampling (labels keep their values).
    static func nearest(_ voxels: [Float], size: [Int], coordinates: [[Double]]) -> [Float] {
        let index = coordinates.enumerated().map { axis, coords in
            coords.map { min(Int(($0 + 0.5).rounded(.down)), size[axis] - 1) }
        }
        let (nx, ny) = (size[0], size[0] * size[1])
        let outCount = coordinates.reduce(1) { $0 * $1.count }
        return [Float](unsafeUninitializedCapacity: outCount) { buffer, initialized in
            voxels.withUnsafeBufferPointer { src in
                var n = 0
                for k in index[2] {
                    for j in index[1] {
                        let row = k * ny + j * nx
                        for i in index[0] {
                            buffer[n] = src[row + i]
                            n += 1
                        }
                    }
                }
            }
            initialized = outCount
        }
    }
}

extension CaseGrid {
    /// Resamples image (trilinear) and label (nearest) to `target` mm per voxel (i, j, k).
    mutating func resample(to target: [Double]) throws(PreprocessFailure) {
        let old = spacing
        guard old.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw PreprocessFailure("the affine gives voxel sizes \(old); cannot resample")
        }
        if zip(old, target).allSatisfy({ abs($0 - $1) <= 1e-6 * $1 }) { return }
        try CaseGrid.checkSize((0..<3).map { max(1, (Double(size[$0]) * old[$0] / target[$0]).rounded()) },
                               what: "resampling to \(target) mm")
        let plan = Resampling.plan(size: size, from: old, to: target)
        image = Resampling.trilinear(image, size: size, coordinates: plan.coordinates)
        label = Resampling.nearest(label, size: size, coordinates: plan.coordinates)
        affine = affine * Matrix4.scaling((0..<3).map { target[$0] / old[$0] })
        size = plan.size
    }
}
