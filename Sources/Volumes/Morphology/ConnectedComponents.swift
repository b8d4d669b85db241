/// Connected components of a binary mask or of a label map.
public struct ConnectedComponents: Sendable, Equatable {
    public let grid: Grid3D
    /// One entry per voxel: 0 for background, otherwise the component number 1...`count`.
    /// Components are numbered in the order of their first voxel in memory order (i fastest, then j,
    /// then k), like scipy's `ndimage.label`.
    public let labels: [Int32]
    /// `sizes[c - 1]` is the voxel count of component `c`.
    public let sizes: [Int]
    /// `values[c - 1]` is the label-map value shared by the voxels of component `c` (1 for a mask).
    public let values: [Int32]

    public var count: Int { sizes.count }
}

extension MaskMorphology {
    /// Labels the connected components of `mask`. `.six` (the default, scipy's default and the
    /// papers' post-processing) joins face neighbours only; `.twentySix` also joins voxels that share
    /// an edge or a corner. Union–find over one raster scan, then one relabelling pass: O(voxels).
    public static func connectedComponents(
        _ mask: [Bool], grid: Grid3D, connectivity: VoxelConnectivity = .six
    ) -> ConnectedComponents {
        precondition(mask.count == grid.count, "mask has \(mask.count) voxels, grid \(grid) needs \(grid.count)")
        let values = mask.map { $0 ? Int32(1) : 0 }
        return connectedComponents(labelMap: values, grid: grid, connectivity: connectivity)
    }

    /// `[UInt8]` mask (non-zero = foreground).
    public static func connectedComponents(
        _ mask: [UInt8], grid: Grid3D, connectivity: VoxelConnectivity = .six
    ) -> ConnectedComponents {
        connectedComponents(mask.map { $0 != 0 }, grid: grid, connectivity: connectivity)
    }

    /// Components of a label map: two neighbouring voxels join when they hold the same non-zero value.
    /// 0 is background. Each component records its value in `values`.
    public static func connectedComponents(
        labelMap: [Int32], grid: Grid3D, connectivity: VoxelConnectivity = .six
    ) -> ConnectedComponents {
        precondition(labelMap.count == grid.count, "label map has \(labelMap.count) voxels, grid \(grid) needs \(grid.count)")
        let (ni, nj, nk) = (grid.ni, grid.nj, grid.nk)
        // Already-visited neighbours of a voxel in raster order (half of the neighbourhood).
        let backward = connectivity.offsets.filter { $0.2 < 0 || ($0.2 == 0 && ($0.1 < 0 || ($0.1 == 0 && $0.0 < 0))) }
        let deltas = backward.map { $0.0 + ni * ($0.1 + nj * $0.2) }

        var provisional = [Int32](repeating: 0, count: grid.count)
        var parent: [Int32] = [0]  // parent[0] unused; provisional labels start at 1

        @inline(__always) func find(_ x: Int32, _ parent: inout [Int32]) -> Int32 {
            var x = x
            while parent[Int(x)] != x {
                let up = parent[Int(parent[Int(x)])]
                parent[Int(x)] = up  // path halving
                x = up
            }
            return x
        }

        labelMap.withUnsafeBufferPointer { v in
            provisional.withUnsafeMutableBufferPointer { lab in
                var p = 0
                for k in 0..<nk {
                    for j in 0..<nj {
                        for i in 0..<ni {
                            defer { p += 1 }
                            let value = v[p]
                            if value == 0 { continue }
                            var current: Int32 = 0
                            for n in 0..<backward.count {
                                let (di, dj, dk) = backward[n]
                                if (di < 0 && i == 0) || (di > 0 && i == ni - 1) { continue }
                                if (dj < 0 && j == 0) || (dj > 0 && j == nj - 1) { continue }
                                if dk < 0 && k == 0 { continue }
                                let q = p + deltas[n]
                                if v[q] != value { continue }
                                let other = lab[q]
                                if current == 0 {
                                    current = other
                                } else if other != current {
                                    let a = find(current, &parent), b = find(other, &parent)
                                    if a != b {
                                        // Keep the smaller (earlier) root so roots stay first-seen.
                                        if a < b { parent[Int(b)] = a } else { parent[Int(a)] = b }
                                    }
                                }
                            }
                            if current == 0 {
                                current = Int32(parent.count)
                                parent.append(current)
                            }
                            lab[p] = current
                        }
                    }
                }
            }
        }

        // Final numbering in order of first appearance, plus sizes and values.
        var final = [Int32](repeating: 0, count: parent.count)
        var sizes: [Int] = []
        var values: [Int32] = []
        labelMap.withUnsafeBufferPointer { v in
            provisional.withUnsafeMutableBufferPointer { lab in
                for p in 0..<lab.count where lab[p] != 0 {
                    let root = Int(find(lab[p], &parent))
                    if final[root] == 0 {
                        sizes.append(0)
                        values.append(v[p])
                        final[root] = Int32(sizes.count)
                    }
                    let c = final[root]
                    sizes[Int(c) - 1] += 1
                    lab[p] = c
                }
            }
        }
        return ConnectedComponents(grid: grid, labels: provisional, sizes: sizes, values: values)
    }

    /// Removes every connected component with fewer than `minimumSize` voxels (the papers'
    /// post-processing uses 1000 voxels with 6-connectivity). Components of exactly `minimumSize`
    /// voxels stay.
    public static func removeSmallComponents(
        _ mask: [Bool], grid: Grid3D, minimumSize: Int = 1000, connectivity: VoxelConnectivity = .six
    ) -> [Bool] {
        let cc = connectedComponents(mask, grid: grid, connectivity: connectivity)
        let keep = cc.sizes.map { $0 >= minimumSize }
        return cc.labels.map { $0 != 0 && keep[Int($0) - 1] }
    }

    /// Label-map version: each label's components are judged separately; removed voxels become 0.
    public static func removeSmallComponents(
        labelMap: [Int32], grid: Grid3D, minimumSize: Int = 1000, connectivity: VoxelConnectivity = .six
    ) -> [Int32] {
        let cc = connectedComponents(labelMap: labelMap, grid: grid, connectivity: connectivity)
        let keep = cc.sizes.map { $0 >= minimumSize }
        return zip(cc.labels, labelMap).map { c, v in c != 0 && keep[Int(c) - 1] ? v : 0 }
    }

    /// Keeps the `count` largest connected components (ties: the component whose first voxel comes
    /// first in memory order wins) and clears the rest.
    public static func keepLargestComponents(
        _ mask: [Bool], grid: Grid3D, count: Int = 1, connectivity: VoxelConnectivity = .six
    ) -> [Bool] {
        let cc = connectedComponents(mask, grid: grid, connectivity: connectivity)
        let keep = largest(cc.sizes.indices.map { $0 }, sizes: cc.sizes, count: count, total: cc.count)
        return cc.labels.map { $0 != 0 && keep[Int($0) - 1] }
    }

    /// Label-map version: keeps the `count` largest components of each label separately.
    public static func keepLargestComponents(
        labelMap: [Int32], grid: Grid3D, count: Int = 1, connectivity: VoxelConnectivity = .six
    ) -> [Int32] {
        let cc = connectedComponents(labelMap: labelMap, grid: grid, connectivity: connectivity)
        var keep = [Bool](repeating: false, count: cc.count)
        var byValue: [Int32: [Int]] = [:]
        for c in 0..<cc.count { byValue[cc.values[c], default: []].append(c) }
        for (_, members) in byValue {
            let chosen = largest(members, sizes: cc.sizes, count: count, total: cc.count)
            for c in members where chosen[c] { keep[c] = true }
        }
        return zip(cc.labels, labelMap).map { c, v in c != 0 && keep[Int(c) - 1] ? v : 0 }
    }

    /// Flags (indexed by component - 1) of the `count` largest among `members`.
    private static func largest(_ members: [Int], sizes: [Int], count: Int, total: Int) -> [Bool] {
        let order = members.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var flags = [Bool](repeating: false, count: total)
        for c in order.prefix(max(0, count)) { flags[c] = true }
        return flags
    }
}
