extension Volume {
    /// Throws `nonFinite` with the count of NaN/infinite voxels and the first one's (i, j, k[, t]).
    /// Reading never checks this on its own; loaders call it where bad intensities must stop a run.
    public func requireFinite() throws {
        var count = 0
        var first = -1
        voxels.withUnsafeBufferPointer { src in
            for n in 0..<src.count where !src[n].isFinite {
                if first < 0 { first = n }
                count += 1
            }
        }
        if count > 0 {
            throw VolumeError.nonFinite(path: name, count: count, firstIndex: coordinates(ofIndex: first))
        }
    }
}

/// Checks that a label map lies on its image's voxel grid: same spatial shape, and voxel sizes equal
/// within `relativeTolerance` (NIfTI-1 stores pixdim as Float32, so exact equality is too strict).
/// Throws `gridMismatch` or `spacingMismatch`, naming both files.
public func checkSameGrid(image: some VoxelGrid, label: some VoxelGrid, relativeTolerance: Double = 1e-4) throws {
    guard image.gridSpatialShape == label.gridSpatialShape else {
        throw VolumeError.gridMismatch(
            image: image.name, label: label.name, imageShape: image.shape, labelShape: label.shape)
    }
    guard image.geometry.hasSameSpacing(as: label.geometry, relativeTolerance: relativeTolerance) else {
        throw VolumeError.spacingMismatch(
            image: image.name, label: label.name, imageSpacing: image.geometry.spacing, labelSpacing: label.geometry.spacing)
    }
}
