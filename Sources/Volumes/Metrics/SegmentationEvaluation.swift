/// Bad input to the metric functions: says what was wrong and what to do.
public enum MetricsError: Error, CustomStringConvertible, Equatable {
    case invalidShape([Int])
    case voxelCountMismatch(what: String, count: Int, shape: [Int])
    case shapeMismatch(prediction: [Int], reference: [Int])
    case invalidSpacing([Double])
    case spacingMismatch(prediction: [Double], reference: [Double])
    case nonIntegerLabel(what: String, value: Double, voxel: [Int])

    public var description: String {
        switch self {
        case .invalidShape(let shape):
            return "metrics need a 3-D shape [ni, nj, nk] with non-negative entries, got \(shape)"
        case let .voxelCountMismatch(what, count, shape):
            return "the \(what) has \(count) voxels but shape \(shape) needs \(shape.reduce(1, *)); pass the array and shape of the same volume"
        case let .shapeMismatch(prediction, reference):
            return "prediction shape \(prediction) differs from reference shape \(reference); resample the prediction onto the reference grid first"
        case .invalidSpacing(let spacing):
            return "spacing must be three positive finite values in mm (i, j, k), got \(spacing); check the NIfTI pixdim"
        case let .spacingMismatch(prediction, reference):
            return "prediction spacing \(prediction) differs from reference spacing \(reference) by more than 1e-6 relative; the masks must share one grid"
        case let .nonIntegerLabel(what, value, voxel):
            return "the \(what) holds the non-integer value \(value) at voxel \(voxel); pass a label map (0 = background, 1, 2, … = labels), e.g. threshold probabilities first"
        }
    }
}

/// Segmentation metrics of a label map against a reference label map: each foreground label (every
/// non-zero value present in either map) and the union of all foreground labels ("all").
/// See `LabelMetrics` for the definitions and the empty-mask policy, and `docs/METRICS.md`.
///
/// - Parameters:
///   - prediction, reference: label maps in NIfTI order (index = i + ni·(j + nj·k)); 0 is background.
///   - shape: `[ni, nj, nk]`.
///   - spacing: mm per voxel along i, j, k — the header's float32 pixdim promoted to Double.
/// - Throws: `MetricsError` when shapes or spacing are inconsistent.
public func evaluateSegmentation(
    prediction: [Int32], reference: [Int32], shape: [Int], spacing: [Double], nsdTolerance: Double = 1
) throws -> SegmentationMetrics {
    guard let grid = Grid3D(shape: shape) else { throw MetricsError.invalidShape(shape) }
    guard prediction.count == grid.count else {
        throw MetricsError.voxelCountMismatch(what: "prediction", count: prediction.count, shape: shape)
    }
    guard reference.count == grid.count else {
        throw MetricsError.voxelCountMismatch(what: "reference", count: reference.count, shape: shape)
    }
    guard spacing.count == 3, spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw MetricsError.invalidSpacing(spacing)
    }
    var present = Set<Int32>()
    for v in prediction where v != 0 { present.insert(v) }
    for v in reference where v != 0 { present.insert(v) }
    let labels = present.sorted()

    func evaluate(_ predicate: (Int32) -> Bool) -> LabelMetrics {
        evaluateBinarySegmentation(
            prediction: prediction.map(predicate), reference: reference.map(predicate),
            grid: grid, spacing: spacing, nsdTolerance: nsdTolerance)
    }
    var perLabel: [Int: LabelMetrics] = [:]
    for label in labels { perLabel[Int(label)] = evaluate { $0 == label } }
    // With a single label the union is that label's masks: reuse its metrics.
    let all = labels.count == 1 ? perLabel[Int(labels[0])]! : evaluate { $0 != 0 }
    return SegmentationMetrics(labels: perLabel, all: all)
}

/// `[UInt8]` label maps (e.g. NIfTI uint8 masks).
public func evaluateSegmentation(
    prediction: [UInt8], reference: [UInt8], shape: [Int], spacing: [Double], nsdTolerance: Double = 1
) throws -> SegmentationMetrics {
    try evaluateSegmentation(
        prediction: prediction.map { Int32($0) }, reference: reference.map { Int32($0) },
        shape: shape, spacing: spacing, nsdTolerance: nsdTolerance)
}

/// `[Float]` label maps, as a NIfTI reader returns voxels. Every value must be an integer
/// (0 = background); anything else throws `MetricsError.nonIntegerLabel`.
public func evaluateSegmentation(
    prediction: [Float], reference: [Float], shape: [Int], spacing: [Double], nsdTolerance: Double = 1
) throws -> SegmentationMetrics {
    guard let grid = Grid3D(shape: shape) else { throw MetricsError.invalidShape(shape) }
    return try evaluateSegmentation(
        prediction: labelsFromFloatVoxels(prediction, what: "prediction", grid: grid),
        reference: labelsFromFloatVoxels(reference, what: "reference", grid: grid),
        shape: shape, spacing: spacing, nsdTolerance: nsdTolerance)
}

/// Integer labels from Float voxels, or a typed error naming the first offending voxel.
func labelsFromFloatVoxels(_ voxels: [Float], what: String, grid: Grid3D) throws -> [Int32] {
    var out = [Int32](repeating: 0, count: voxels.count)
    for (n, value) in voxels.enumerated() where value != 0 {
        guard value.isFinite, value.rounded() == value, abs(value) <= Float(Int32.max / 2) else {
            let voxel = grid.count == voxels.count && grid.count > 0
                ? [n % grid.ni, (n / grid.ni) % grid.nj, n / (grid.ni * grid.nj)] : [n]
            throw MetricsError.nonIntegerLabel(what: what, value: Double(value), voxel: voxel)
        }
        out[n] = Int32(value)
    }
    return out
}
