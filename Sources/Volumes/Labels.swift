extension Volume {
    /// The voxels as integer labels. Throws `nonIntegerLabel` (naming the file and the first bad
    /// voxel) when a value is fractional, NaN/infinite, or outside Int32.
    public func integerLabels() throws -> [Int32] {
        let count = voxels.count
        var firstBad = -1
        let labels = [Int32](unsafeUninitializedCapacity: count) { out, initialized in
            voxels.withUnsafeBufferPointer { src in
                for n in 0..<count {
                    let v = src[n]
                    // NaN fails every comparison, so it lands in the else branch too.
                    if v >= -2_147_483_648, v < 2_147_483_648, v == v.rounded(.towardZero) {
                        out[n] = Int32(v)
                    } else {
                        out[n] = 0
                        if firstBad < 0 { firstBad = n }
                    }
                }
            }
            initialized = count
        }
        if firstBad >= 0 {
            throw VolumeError.nonIntegerLabel(
                path: name, value: voxels[firstBad], index: coordinates(ofIndex: firstBad))
        }
        return labels
    }

    /// `integerLabels()` of a label map, which must also be 0 (background) or more: throws
    /// `negativeLabel` naming the file and the first negative voxel.
    public func classLabels() throws -> [Int32] {
        let labels = try integerLabels()
        if let n = labels.firstIndex(where: { $0 < 0 }) {
            throw VolumeError.negativeLabel(path: name, value: Int(labels[n]), index: coordinates(ofIndex: n))
        }
        return labels
    }

    /// The distinct label values present, ascending (e.g. [0, 1, 2]). Throws like `integerLabels()`.
    public func labelValues() throws -> [Int] {
        var seenSmall = [Bool](repeating: false, count: 256)
        var others = Set<Int>()
        var firstBad = -1
        voxels.withUnsafeBufferPointer { src in
            for n in 0..<src.count {
                let v = src[n]
                if v >= 0, v < 256, v == v.rounded(.towardZero) {
                    seenSmall[Int(v)] = true
                } else if v >= -2_147_483_648, v < 2_147_483_648, v == v.rounded(.towardZero) {
                    others.insert(Int(v))
                } else if firstBad < 0 {
                    firstBad = n
                }
            }
        }
        if firstBad >= 0 {
            throw VolumeError.nonIntegerLabel(
                path: name, value: voxels[firstBad], index: coordinates(ofIndex: firstBad))
        }
        return (others.union(seenSmall.indices.filter { seenSmall[$0] })).sorted()
    }
}
