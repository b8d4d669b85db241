/// The metric fields of `harness evaluate`, by their JSON names (DESIGN.md).
public enum MetricName: String, CaseIterable, Sendable, Codable, Hashable {
    case dice
    case hdMax = "hd_max"
    case hd95
    case hd95Medpy = "hd95_medpy"
    case assd
    case nsd1mm = "nsd_1mm"
    case volumeRefMM3 = "volume_ref_mm3"
    case volumePredMM3 = "volume_pred_mm3"

    /// The sibling JSON field that explains a null value, e.g. `hd95_note`.
    public var noteKey: String { rawValue + "_note" }
}

/// Metrics of one binary pair (prediction P, reference G). See `docs/METRICS.md`.
///
/// Definitions (each matches its reference library to rounding; spacing in mm per axis i, j, k):
/// - `dice`: 2|P∩G| / (|P| + |G|), medpy `dc`; 1 when both masks are empty.
/// - `hdMax`: SimpleITK `HausdorffDistanceImageFilter`: max of the two directed maxima of
///   voxel-centre distances between *all* foreground voxels (the papers' "HD95" column).
/// - `hd95`: MONAI `compute_hausdorff_distance(percentile=95)`: the larger of the two directed
///   linear 95th percentiles of ∂6-surface-to-∂6-surface distances.
/// - `hd95Medpy`: medpy `hd95`: the linear 95th percentile of both directions pooled.
/// - `assd`: medpy ≥ 0.5 `assd` (= MONAI symmetric ASD): the mean of the pooled list.
/// - `nsd1mm`: DeepMind surface Dice at τ = 1 mm (`d ≤ τ`), corner surfels weighted by marching-cubes
///   area (= MONAI `compute_surface_dice(use_subvoxels=True)`).
/// - `volumeRefMM3`, `volumePredMM3`: voxel count × s₀s₁s₂.
///
/// Empty masks (never a silent 0 for an undefined distance):
///
/// | field | prediction empty | reference empty | both empty |
/// |---|---|---|---|
/// | dice | 0 | 0 | 1 |
/// | hd_max, hd95, hd95_medpy, assd | nil + note | nil + note | nil + note |
/// | nsd_1mm | 0 | 0 | nil + note |
/// | volumes | defined | defined | defined |
///
/// A nil value always has a reason in `notes[name]`.
public struct LabelMetrics: Sendable, Equatable {
    public var dice: Double
    public var hdMax: Double?
    public var hd95: Double?
    public var hd95Medpy: Double?
    public var assd: Double?
    public var nsd1mm: Double?
    public var volumeRefMM3: Double
    public var volumePredMM3: Double
    /// Why a metric is nil, e.g. `[.hd95: "prediction is empty"]`.
    public var notes: [MetricName: String]

    public init(
        dice: Double, hdMax: Double?, hd95: Double?, hd95Medpy: Double?, assd: Double?, nsd1mm: Double?,
        volumeRefMM3: Double, volumePredMM3: Double, notes: [MetricName: String] = [:]
    ) {
        self.dice = dice
        self.hdMax = hdMax
        self.hd95 = hd95
        self.hd95Medpy = hd95Medpy
        self.assd = assd
        self.nsd1mm = nsd1mm
        self.volumeRefMM3 = volumeRefMM3
        self.volumePredMM3 = volumePredMM3
        self.notes = notes
    }

    /// The value of a field by name (nil when undefined).
    public subscript(_ name: MetricName) -> Double? {
        switch name {
        case .dice: return dice
        case .hdMax: return hdMax
        case .hd95: return hd95
        case .hd95Medpy: return hd95Medpy
        case .assd: return assd
        case .nsd1mm: return nsd1mm
        case .volumeRefMM3: return volumeRefMM3
        case .volumePredMM3: return volumePredMM3
        }
    }
}

/// Notes used for undefined values.
public enum MetricNote {
    public static let predictionEmpty = "prediction is empty"
    public static let referenceEmpty = "reference is empty"
    public static let bothEmpty = "prediction and reference are both empty"
}

/// Metrics of a prediction against a reference for every foreground label and for the union of all
/// foreground labels. JSON shape (DESIGN.md, `harness evaluate --json`):
/// `{"labels": {"1": {...}, "2": {...}, "all": {...}}}`.
public struct SegmentationMetrics: Sendable, Equatable {
    /// Per foreground label value present in the prediction or the reference.
    public var labels: [Int: LabelMetrics]
    /// The union of all foreground labels (every non-zero voxel) of each map.
    public var all: LabelMetrics

    public init(labels: [Int: LabelMetrics], all: LabelMetrics) {
        self.labels = labels
        self.all = all
    }

    /// Metrics by JSON key: "1", "2", …, or "all".
    public subscript(key: String) -> LabelMetrics? {
        if key == "all" { return all }
        return Int(key).flatMap { labels[$0] }
    }

    /// JSON keys in output order: labels ascending, then "all".
    public var keys: [String] { labels.keys.sorted().map(String.init) + ["all"] }
}

/// The chosen metric definitions for one binary pair. Pure function of the masks and the spacing.
///
/// - Parameters:
///   - prediction, reference: masks on `grid` in NIfTI order (index = i + ni·(j + nj·k)).
///   - spacing: mm per voxel along i, j, k (use the header's float32 pixdim as Double).
///   - nsdTolerance: the surface-Dice tolerance τ in mm (the field is named `nsd_1mm`; keep 1).
public func evaluateBinarySegmentation(
    prediction: [Bool], reference: [Bool], grid: Grid3D, spacing: [Double], nsdTolerance: Double = 1
) -> LabelMetrics {
    precondition(prediction.count == grid.count && reference.count == grid.count,
                 "masks have \(prediction.count) and \(reference.count) voxels, grid \(grid) needs \(grid.count)")
    precondition(spacing.count == 3 && spacing.allSatisfy { $0 > 0 && $0.isFinite },
                 "spacing must be three positive finite values, got \(spacing)")
    var countP = 0, countG = 0, overlap = 0
    for v in 0..<grid.count {
        let p = prediction[v], g = reference[v]
        if p { countP += 1 }
        if g { countG += 1 }
        if p && g { overlap += 1 }
    }
    let voxelVolume = spacing[0] * spacing[1] * spacing[2]
    var m = LabelMetrics(
        dice: countP + countG == 0 ? 1 : 2 * Double(overlap) / Double(countP + countG),
        hdMax: nil, hd95: nil, hd95Medpy: nil, assd: nil, nsd1mm: nil,
        volumeRefMM3: Double(countG) * voxelVolume, volumePredMM3: Double(countP) * voxelVolume)

    let distanceFields: [MetricName] = [.hdMax, .hd95, .hd95Medpy, .assd]
    if countP == 0 || countG == 0 {
        let note = countP + countG == 0 ? MetricNote.bothEmpty
            : countP == 0 ? MetricNote.predictionEmpty : MetricNote.referenceEmpty
        for name in distanceFields { m.notes[name] = note }
        if countP + countG == 0 {
            m.notes[.nsd1mm] = note + " (surface Dice is 0/0)"
        } else {
            m.nsd1mm = 0  // DeepMind and MONAI: one surface has no area within any tolerance
        }
        return m
    }

    guard let pair = CroppedPair(prediction: prediction, reference: reference, grid: grid) else { return m }
    do {  // voxel-grid measures; the distance maps are freed before the corner grid is built
        let maps = pair.surfaceDistanceMaps(spacing: spacing)
        let directedMax = pair.setHausdorff(maps)
        m.hdMax = max(directedMax.predictionToReference, directedMax.referenceToPrediction)

        var (pg, gp) = pair.surfaceDistances(maps)
        pg.sort()
        gp.sort()
        m.hd95 = max(MaskDistances.linearPercentile(sorted: pg, 0.95)!, MaskDistances.linearPercentile(sorted: gp, 0.95)!)
        let pooled = merge(pg, gp)
        m.hd95Medpy = MaskDistances.linearPercentile(sorted: pooled, 0.95)
        m.assd = pooled.reduce(0, +) / Double(pooled.count)
    }
    m.nsd1mm = pair.surfels(spacing: spacing).surfaceDice(tolerance: nsdTolerance)
    return m
}

/// Merges two ascending arrays.
private func merge(_ a: [Double], _ b: [Double]) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(a.count + b.count)
    var i = 0, j = 0
    while i < a.count && j < b.count {
        if a[i] <= b[j] { out.append(a[i]); i += 1 } else { out.append(b[j]); j += 1 }
    }
    out.append(contentsOf: a[i...])
    out.append(contentsOf: b[j...])
    return out
}
