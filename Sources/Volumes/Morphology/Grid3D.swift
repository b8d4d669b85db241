/// The index space of a 3-D voxel array in NIfTI order: axis 0 (`i`) varies fastest, so the voxel
/// `(i, j, k)` sits at `i + ni * (j + nj * k)`. Masks, label maps, distance maps and component labels
/// in this module are flat arrays laid out this way.
public struct Grid3D: Hashable, Sendable, CustomStringConvertible {
    public let ni: Int
    public let nj: Int
    public let nk: Int

    public init(_ ni: Int, _ nj: Int, _ nk: Int) {
        precondition(ni >= 0 && nj >= 0 && nk >= 0, "Grid3D: negative extent (\(ni), \(nj), \(nk))")
        self.ni = ni
        self.nj = nj
        self.nk = nk
    }

    /// `shape` = `[ni, nj, nk]`, as a NIfTI volume's `shape`. Returns nil unless it has three
    /// non-negative entries.
    public init?(shape: [Int]) {
        guard shape.count == 3, shape.allSatisfy({ $0 >= 0 }) else { return nil }
        self.init(shape[0], shape[1], shape[2])
    }

    public var shape: [Int] { [ni, nj, nk] }
    public var count: Int { ni * nj * nk }
    @inline(__always) public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { i + ni * (j + nj * k) }
    @inline(__always) public func contains(_ i: Int, _ j: Int, _ k: Int) -> Bool {
        i >= 0 && j >= 0 && k >= 0 && i < ni && j < nj && k < nk
    }
    public var description: String { "\(ni)×\(nj)×\(nk)" }
}

/// Which voxels count as neighbours: the 6 face neighbours (a 3-D cross) or all 26 voxels of the
/// 3×3×3 cube around a voxel. Used both for connected components and as an erosion element.
public enum VoxelConnectivity: Sendable, Hashable {
    /// Face neighbours only (scipy `generate_binary_structure(3, 1)`).
    case six
    /// Face, edge and corner neighbours (scipy `generate_binary_structure(3, 3)`).
    case twentySix

    /// Neighbour offsets `(di, dj, dk)` without the centre.
    public var offsets: [(Int, Int, Int)] {
        var result: [(Int, Int, Int)] = []
        for dk in -1...1 {
            for dj in -1...1 {
                for di in -1...1 where !(di == 0 && dj == 0 && dk == 0) {
                    if self == .six && abs(di) + abs(dj) + abs(dk) != 1 { continue }
                    result.append((di, dj, dk))
                }
            }
        }
        return result
    }
}

/// An inclusive, axis-aligned box of voxel indices.
public struct VoxelBox: Hashable, Sendable {
    public var lower: (i: Int, j: Int, k: Int)
    public var upper: (i: Int, j: Int, k: Int)

    public init(lower: (Int, Int, Int), upper: (Int, Int, Int)) {
        self.lower = (lower.0, lower.1, lower.2)
        self.upper = (upper.0, upper.1, upper.2)
    }

    /// The grid of the voxels inside the box.
    public var grid: Grid3D { Grid3D(upper.i - lower.i + 1, upper.j - lower.j + 1, upper.k - lower.k + 1) }

    public static func == (a: VoxelBox, b: VoxelBox) -> Bool {
        a.lower == b.lower && a.upper == b.upper
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(lower.i); hasher.combine(lower.j); hasher.combine(lower.k)
        hasher.combine(upper.i); hasher.combine(upper.j); hasher.combine(upper.k)
    }

    /// The smallest box holding every `true` voxel of `mask`, or nil for an empty mask.
    public static func bounding(_ mask: [Bool], grid: Grid3D) -> VoxelBox? {
        precondition(mask.count == grid.count, "mask has \(mask.count) voxels, grid \(grid) needs \(grid.count)")
        var lo = (i: Int.max, j: Int.max, k: Int.max)
        var hi = (i: -1, j: -1, k: -1)
        mask.withUnsafeBufferPointer { m in
            var p = 0
            for k in 0..<grid.nk {
                for j in 0..<grid.nj {
                    var rowLo = Int.max, rowHi = -1
                    for i in 0..<grid.ni {
                        if m[p + i] {
                            if rowLo == Int.max { rowLo = i }
                            rowHi = i
                        }
                    }
                    p += grid.ni
                    if rowHi >= 0 {
                        lo.i = min(lo.i, rowLo); hi.i = max(hi.i, rowHi)
                        lo.j = min(lo.j, j); hi.j = max(hi.j, j)
                        lo.k = min(lo.k, k); hi.k = max(hi.k, k)
                    }
                }
            }
        }
        guard hi.i >= 0 else { return nil }
        return VoxelBox(lower: (lo.i, lo.j, lo.k), upper: (hi.i, hi.j, hi.k))
    }

    /// The smallest box holding both boxes.
    public func union(_ other: VoxelBox) -> VoxelBox {
        VoxelBox(
            lower: (min(lower.i, other.lower.i), min(lower.j, other.lower.j), min(lower.k, other.lower.k)),
            upper: (max(upper.i, other.upper.i), max(upper.j, other.upper.j), max(upper.k, other.upper.k)))
    }

    /// The voxels of `array` (laid out on `grid`) inside the box, laid out on `self.grid`.
    public func crop<T>(_ array: [T], grid: Grid3D) -> [T] {
        precondition(array.count == grid.count, "array has \(array.count) voxels, grid \(grid) needs \(grid.count)")
        let g = self.grid
        var out: [T] = []
        out.reserveCapacity(g.count)
        for k in lower.k...upper.k {
            for j in lower.j...upper.j {
                let start = grid.index(lower.i, j, k)
                out.append(contentsOf: array[start..<(start + g.ni)])
            }
        }
        return out
    }
}
