/// Post-processing of label-map volumes (predictions) with the papers' connected-component rules.
extension Volume {
    /// The voxel grid of a 3-D volume (throws for a 4-D series).
    public func grid3D() throws -> Grid3D {
        guard timepoints == 1, let grid = Grid3D(shape: spatialShape) else {
            throw VolumeError.invalidVolume(name: name, reason: "shape \(shape): connected components need a 3-D volume")
        }
        return grid
    }

    /// A copy where every connected component (per label) with fewer than `minimumSize` voxels is set to
    /// background. The papers use 1000 voxels and 6-connectivity (the defaults).
    /// Throws `VolumeError.nonIntegerLabel` unless the voxels are integer labels.
    public func removingSmallComponents(minimumSize: Int = 1000, connectivity: VoxelConnectivity = .six) throws -> Volume {
        let cleaned = MaskMorphology.removeSmallComponents(
            labelMap: try integerLabels(), grid: try grid3D(), minimumSize: minimumSize, connectivity: connectivity)
        var out = self
        out.voxels = cleaned.map { Float($0) }
        return out
    }

    /// A copy keeping only the `count` largest connected components of each label.
    /// Throws `VolumeError.nonIntegerLabel` unless the voxels are integer labels.
    public func keepingLargestComponents(count: Int = 1, connectivity: VoxelConnectivity = .six) throws -> Volume {
        let kept = MaskMorphology.keepLargestComponents(
            labelMap: try integerLabels(), grid: try grid3D(), count: count, connectivity: connectivity)
        var out = self
        out.voxels = kept.map { Float($0) }
        return out
    }
}
