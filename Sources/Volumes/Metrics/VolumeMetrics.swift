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
        prediction: prediction.integerLabels(), reference: reference.integerLabels(),
        shape: reference.spatialShape, spacing: spacing, nsdTolerance: nsdTolerance)
}

/// Throws `MetricsError.gridMismatch` unless both volumes are 3-D label maps on one voxel grid.
func requireSameGrid(prediction: Volume, reference: Volume) throws {
    func fail(_ reason: String) -> MetricsError {
        .gridMismatch(prediction: prediction.name, reference: reference.name, reason: reason)
    }
    guard prediction.timepoints == 1, reference.timepoints == 1 else {
        throw fail("shapes \(prediction.shape) and \(reference.shape): metrics need 3-D label maps, not 4-D series")
    }
    guard prediction.spatialShape == reference.spatialShape else {
        throw fail("shape \(prediction.spatialShape) vs \(reference.spatialShape); resample the prediction onto the reference grid first")
    }
    let a = prediction.geometry.spacingMM, b = reference.geometry.spacingMM
    guard zip(a, b).allSatisfy({ abs($0 - $1) <= 1e-6 * max(abs($0), abs($1)) }) else {
        throw fail("spacing \(a) mm vs \(b) mm; the masks must share one voxel grid")
    }
    guard prediction.affine.isClose(to: reference.affine, tolerance: 1e-4) else {
        throw fail("affine \(prediction.affine) vs \(reference.affine); write the prediction with the reference's geometry (NIfTI.writePrediction(_:like:to:))")
    }
}
