/// `harness evaluate --pred P --ref R`: metrics of a prediction volume against a reference volume,
/// both label maps (0 = background) read with `NIfTI.read`.
///
/// The spacing is the reference header's pixdim in mm (`geometry.spacingMM`; pixdim is float32, and
/// the reference libraries use exactly that stored value). The prediction must lie on the same grid:
/// same spatial shape, spacing equal to 1e-6 relative, affine equal to 1e-4 (SimpleITK refuses images
/// that "do not occupy the same physical space" in the same way). Voxel values must be integers.
/// - Throws: `MetricsError` for a grid mismatch, `VolumeError.nonIntegerLabel` for a fractional voxel.
public func evaluateSegmentation(
    prediction: Volume, reference: Volume, nsdTolerance: Double = 1
) throws -> SegmentationMetrics {
    try requireSameGrid(prediction: prediction, reference: reference)
    let spacing = reference.geometry.spacingMM
    return try evaluateSegmentation(
        prediction: prediction.classLabels(), reference: reference.classLabels(),
        shape: reference.spatialShape, spacing: spacing, nsdTolerance: nsdTolerance)
}

/// `harness evaluate` on files: both headers are read and their grids compared before any voxel is
/// decoded, then the memory the evaluation needs is compared with what the process can use
/// (`MemoryBudget`), so a small file whose header claims 10^9 voxels is refused with one line.
/// Each map is turned into integer labels as soon as it is read, so only one Float32 copy exists at a
/// time.
public func evaluateSegmentation(predictionPath: String, referencePath: String, nsdTolerance: Double = 1,
                                 memoryLimit: Int? = nil) throws -> SegmentationMetrics {
    let prediction = try NIfTI.readHeader(path: predictionPath), reference = try NIfTI.readHeader(path: referencePath)
    try requireSameGrid(prediction: prediction, reference: reference)
    let limit = memoryLimit ?? MemoryBudget.affordableBytes()
    // Per voxel: two Int32 label maps, one Float32 map being converted, and the distance maps and masks
    // of the metrics (~24 bytes); plus the larger raw buffer a read decodes from.
    let raw = max(prediction.decodedBytes, reference.decodedBytes) - 4 * reference.voxelCount
    let (perVoxel, overflow) = reference.voxelCount.multipliedReportingOverflow(by: 36)
    try reference.requireFits(limit, what: "evaluating it against \(prediction.name)",
                              bytes: overflow ? Int.max : perVoxel + raw)
    let predicted = try NIfTI.read(path: predictionPath, memoryLimit: limit).classLabels()
    let referenceVolume = try NIfTI.read(path: referencePath, memoryLimit: limit)
    return try evaluateSegmentation(
        prediction: predicted, reference: referenceVolume.classLabels(), shape: referenceVolume.spatialShape,
        spacing: referenceVolume.geometry.spacingMM, nsdTolerance: nsdTolerance)
}

/// Throws `MetricsError.gridMismatch` unless both volumes are 3-D label maps on one voxel grid. Takes
/// headers as well as volumes, so `evaluate` compares grids before decoding any voxels.
public func requireSameGrid(prediction: some VoxelGrid, reference: some VoxelGrid) throws {
    func fail(_ reason: String) -> MetricsError {
        .gridMismatch(prediction: prediction.name, reference: reference.name, reason: reason)
    }
    guard prediction.gridTimepoints == 1, reference.gridTimepoints == 1 else {
        throw fail("shapes \(prediction.shape) and \(reference.shape): metrics need 3-D label maps, not 4-D series")
    }
    guard prediction.gridSpatialShape == reference.gridSpatialShape else {
        throw fail("shape \(prediction.gridSpatialShape) vs \(reference.gridSpatialShape); resample the prediction onto the reference grid first")
    }
    let a = prediction.geometry.spacingMM, b = reference.geometry.spacingMM
    guard zip(a, b).allSatisfy({ abs($0 - $1) <= 1e-6 * max(abs($0), abs($1)) }) else {
        throw fail("spacing \(a) mm vs \(b) mm; the masks must share one voxel grid")
    }
    guard prediction.geometry.affine.isClose(to: reference.geometry.affine, tolerance: 1e-4) else {
        throw fail("affine \(prediction.geometry.affine) vs \(reference.geometry.affine); write the prediction with the reference's geometry (NIfTI.writePrediction(_:like:to:))")
    }
}
