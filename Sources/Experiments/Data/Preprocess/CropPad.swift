/// Cutting windows out of a grid: crops, pads and fixed boxes are all one operation, a window
/// `start ..< start + size` (i, j, k) that may reach past the volume, filled there.
enum Window {
    /// Copies the window of `voxels` (size `size`) starting at `start` with `windowSize`; voxels outside
    /// the volume get `fill`.
    static func cut(_ voxels: [Float], size: [Int], start: [Int], windowSize: [Int], fill: Float) -> [Float] {
        let count = windowSize.reduce(1, *)
        var out = [Float](repeating: fill, count: count)
        // Overlap in window coordinates, per axis.
        let lo = (0..<3).map { max(0, -start[$0]) }
        let hi = (0..<3).map { min(windowSize[$0], size[$0] - start[$0]) }
        guard (0..<3).allSatisfy({ lo[$0] < hi[$0] }) else { return out }
        let (nx, ny) = (size[0], size[0] * size[1])
        let (wx, wy) = (windowSize[0], windowSize[0] * windowSize[1])
        let run = hi[0] - lo[0]
        voxels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for k in lo[2]..<hi[2] {
                    for j in lo[1]..<hi[1] {
                        let from = (k + start[2]) * ny + (j + start[1]) * nx + lo[0] + start[0]
                        let to = k * wy + j * wx + lo[0]
                        (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: run)
                    }
                }
            }
        }
        return out
    }

    /// The window of a centre crop to `target` (axes already shorter are left whole).
    static func centreCrop(size: [Int], to target: [Int]) -> (start: [Int], size: [Int]) {
        ((0..<3).map { size[$0] > target[$0] ? (size[$0] - target[$0]) / 2 : 0 }, (0..<3).map { min(size[$0], target[$0]) })
    }

    /// The window of a centred pad to `target` (axes already longer are left whole).
    static func centrePad(size: [Int], to target: [Int]) -> (start: [Int], size: [Int]) {
        ((0..<3).map { size[$0] < target[$0] ? -((target[$0] - size[$0]) / 2) : 0 }, (0..<3).map { max(size[$0], target[$0]) })
    }
}

extension CaseGrid {
    /// Replaces the grid by the window `start ..< start + windowSize` (image filled with `fill`, label 0).
    mutating func cut(start: [Int], size windowSize: [Int], fill: Float) throws(PreprocessFailure) {
        if start == [0, 0, 0], windowSize == size { return }
        try CaseGrid.checkSize(windowSize.map(Double.init), what: "a window of \(windowSize) voxels")
        image = Window.cut(image, size: size, start: start, windowSize: windowSize, fill: fill)
        label = Window.cut(label, size: size, start: start, windowSize: windowSize, fill: 0)
        affine = affine * Matrix4.translation(start.map(Double.init))
        size = windowSize
    }

    /// The voxel window of a world box (mm): every voxel whose centre lies in the box's voxel-space hull.
    func window(ofWorldBox low: [Double], _ high: [Double]) throws(PreprocessFailure) -> (start: [Int], size: [Int]) {
        guard let inverse = affine.inverse() else {
            throw PreprocessFailure("the affine is singular; a world box cannot be placed")
        }
        var minimum = [Double](repeating: .infinity, count: 3)
        var maximum = [Double](repeating: -.infinity, count: 3)
        for corner in 0..<8 {
            let p = (0..<3).map { (corner >> $0) & 1 == 0 ? low[$0] : high[$0] }
            let v = inverse.apply(p)
            for axis in 0..<3 {
                minimum[axis] = min(minimum[axis], v[axis])
                maximum[axis] = max(maximum[axis], v[axis])
            }
        }
        var start: [Int] = [], size: [Int] = []
        for axis in 0..<3 {
            // First voxel centre at or above the minimum (ceil = −floor(−x)), last at or below the maximum.
            guard let below = voxelIndex(-(minimum[axis] - 1e-6)), let last = voxelIndex(maximum[axis] + 1e-6) else {
                throw PreprocessFailure(
                    "the world box maps to voxel coordinates \(minimum) … \(maximum); check box.world_min/world_max")
            }
            start.append(-below)
            size.append(max(1, last + below + 1))
        }
        return (start, size)
    }
}
