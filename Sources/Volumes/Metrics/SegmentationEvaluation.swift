/// Bad input to the metric functions: says what was wrong and what to do.
public enum MetricsError: Error, CustomStringConvertible, Equatable {
    case invalidShape([Int])
    case voxelCountMismatch(what: String, count: Int, shape: [Int])
    case shapeMismatch(prediction: [Int], reference: [Int])
    case invalidSpacing([Double])
    case spacingMismatch(prediction: [Double], reference: [Double])
    case nonIntegerLabel(what: String, value: Double, voxel: [Int])
    case gridMismatch(prediction: String, reference: String, reason: String)
    case negativeLabel(what: String, value: Int, voxel: [Int])

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
        case let .negativeLabel(what, value, voxel):
            return "the \(what) holds the label \(value) at voxel \(voxel); label maps hold 0 (background) and positive labels"
        case let .gridMismatch(prediction, reference, reason):
            return "prediction \(prediction) and reference \(reference) are not on one voxel grid: \(reason)"
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
    for (what, map) in [("prediction", prediction), ("reference", reference)] {
        if let n = map.firstIndex(where: { $0 < 0 }) {
            throw MetricsError.negativeLabel(what: what, value: Int(map[n]), voxel: [n % grid.ni, (n / grid.ni) % grid.nj, n / (grid.ni * grid.nj)])
        }
    }
    // Each label is evaluated on the bounding box of its voxels in either map. Every measure is
    // unchanged by that crop (see `CroppedPair`), and the full-size maps are scanned only once.
    var boxes: [Int32: VoxelBox] = [:]
    labelBoxes(prediction, grid: grid, into: &boxes)
    labelBoxes(reference, grid: grid, into: &boxes)
    let labels = boxes.keys.sorted()

    func evaluate(in box: VoxelBox?, _ predicate: (Int32) -> Bool) -> LabelMetrics {
        guard let box else {
            // Nothing anywhere: both masks empty.
            let empty = [Bool](repeating: false, count: 1)
            var m = evaluateBinarySegmentation(prediction: empty, reference: empty, grid: Grid3D(1, 1, 1),
                                               spacing: spacing, nsdTolerance: nsdTolerance)
            m.volumeRefMM3 = 0
            m.volumePredMM3 = 0
            return m
        }
        let sub = box.grid
        return evaluateBinarySegmentation(
            prediction: box.crop(prediction, grid: grid).map(predicate),
            reference: box.crop(reference, grid: grid).map(predicate),
            grid: sub, spacing: spacing, nsdTolerance: nsdTolerance)
    }
    var perLabel: [Int: LabelMetrics] = [:]
    for label in labels { perLabel[Int(label)] = evaluate(in: boxes[label]) { $0 == label } }
    // With a single label the union is that label's masks: reuse its metrics.
    let all = labels.count == 1 ? perLabel[Int(labels[0])]!
        : evaluate(in: boxes.values.reduce(nil) { $0?.union($1) ?? $1 }) { $0 != 0 }
    return SegmentationMetrics(labels: perLabel, all: all)
}

/// Grows `boxes[label]` to cover every voxel of each non-zero label in `map`. Works run by run, so a
/// large object costs one dictionary update per row, not per voxel.
func labelBoxes(_ map: [Int32], grid: Grid3D, into boxes: inout [Int32: VoxelBox]) {
    map.withUnsafeBufferPointer { m in
        var p = 0
        for k in 0..<grid.nk {
            for j in 0..<grid.nj {
                var i = 0
                while i < grid.ni {
                    let label = m[p + i]
                    if label == 0 { i += 1; continue }
                    let first = i
                    while i + 1 < grid.ni && m[p + i + 1] == label { i += 1 }
                    let run = VoxelBox(lower: (first, j, k), upper: (i, j, k))
                    boxes[label] = boxes[label].map { $0.union(run) } ?? run
                    i += 1
                }
                p += grid.ni
            }
        }
    }
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
