/// Binary morphology on 3-D masks in NIfTI order (see `Grid3D`): connected components, erosion,
/// dilation and object surfaces.
public enum MaskMorphology {
    /// What an erosion assumes about the voxels beyond the image faces.
    public enum Border: Sendable, Hashable {
        /// Outside is background: objects touching a face lose their face layer (scipy's default
        /// `border_value=0`; medpy and MONAI surfaces).
        case background
        /// Outside is foreground: the image faces never erode anything (ITK `LabelContour`).
        case foreground
    }

    /// Binary erosion by the 6-neighbour cross (`.six`) or the 3×3×3 cube (`.twentySix`): a voxel stays
    /// when it and all its neighbours are foreground, where neighbours beyond the image take `border`.
    public static func erode(
        _ mask: [Bool], grid: Grid3D, structure: VoxelConnectivity = .six, border: Border = .background
    ) -> [Bool] {
        precondition(mask.count == grid.count, "mask has \(mask.count) voxels, grid \(grid) needs \(grid.count)")
        let (ni, nj, nk) = (grid.ni, grid.nj, grid.nk)
        let offsets = structure.offsets
        let deltas = offsets.map { $0.0 + ni * ($0.1 + nj * $0.2) }
        let outside = border == .foreground
        var out = [Bool](repeating: false, count: grid.count)
        mask.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in
                var p = 0
                for k in 0..<nk {
                    let kInterior = k > 0 && k < nk - 1
                    for j in 0..<nj {
                        let jkInterior = kInterior && j > 0 && j < nj - 1
                        for i in 0..<ni {
                            defer { p += 1 }
                            guard m[p] else { continue }
                            var keep = true
                            if jkInterior && i > 0 && i < ni - 1 {
                                for d in deltas where !m[p + d] { keep = false; break }
                            } else {
                                for (di, dj, dk) in offsets {
                                    let inside = grid.contains(i + di, j + dj, k + dk)
                                    let value = inside ? m[p + di + ni * (dj + nj * dk)] : outside
                                    if !value { keep = false; break }
                                }
                            }
                            o[p] = keep
                        }
                    }
                }
            }
        }
        return out
    }

    /// Binary dilation by the cross or the cube (voxels beyond the image play no part).
    public static func dilate(_ mask: [Bool], grid: Grid3D, structure: VoxelConnectivity = .six) -> [Bool] {
        // dilate(M) = ¬erode(¬M) with the outside of ¬M counted as foreground (outside M = background).
        erode(mask.map { !$0 }, grid: grid, structure: structure, border: .foreground).map { !$0 }
    }

    /// The object's surface voxels: `mask AND NOT erode(mask, connectivity, border)`.
    /// The default (`.six`, `.background`) is ∂6 of DEFINITIONS.md: a foreground voxel with a face
    /// neighbour that is background or beyond the image (medpy `connectivity=1`, MONAI edges).
    /// `.twentySix` with `.foreground` is ITK's `LabelContour(fullyConnected: true)` (∂26ᵢ).
    public static func surface(
        _ mask: [Bool], grid: Grid3D, connectivity: VoxelConnectivity = .six, border: Border = .background
    ) -> [Bool] {
        let eroded = erode(mask, grid: grid, structure: connectivity, border: border)
        return zip(mask, eroded).map { $0 && !$1 }
    }

    // [UInt8] conveniences (non-zero = foreground).

    public static func erode(
        _ mask: [UInt8], grid: Grid3D, structure: VoxelConnectivity = .six, border: Border = .background
    ) -> [Bool] {
        erode(mask.map { $0 != 0 }, grid: grid, structure: structure, border: border)
    }

    public static func surface(
        _ mask: [UInt8], grid: Grid3D, connectivity: VoxelConnectivity = .six, border: Border = .background
    ) -> [Bool] {
        surface(mask.map { $0 != 0 }, grid: grid, connectivity: connectivity, border: border)
    }

    public static func removeSmallComponents(
        _ mask: [UInt8], grid: Grid3D, minimumSize: Int = 1000, connectivity: VoxelConnectivity = .six
    ) -> [Bool] {
        removeSmallComponents(mask.map { $0 != 0 }, grid: grid, minimumSize: minimumSize, connectivity: connectivity)
    }

    public static func keepLargestComponents(
        _ mask: [UInt8], grid: Grid3D, count: Int = 1, connectivity: VoxelConnectivity = .six
    ) -> [Bool] {
        keepLargestComponents(mask.map { $0 != 0 }, grid: grid, count: count, connectivity: connectivity)
    }
}
