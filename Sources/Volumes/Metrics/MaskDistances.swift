/// The distance measurements behind the segmentation metrics, for one pair of binary masks on the
/// same grid. Each function states the reference library it reproduces; `docs/METRICS.md` has the
/// full definitions. All distances are between voxel centres (or grid corners) in mm, exact (from
/// `DistanceTransform`), in Double.
public enum MaskDistances {
    /// Directed set-Hausdorff maxima between all foreground voxel centres (SimpleITK
    /// `DirectedHausdorffDistanceImageFilter` in both directions): `predictionToReference` =
    /// max over p ∈ P of d(p, G). Nil when either mask is empty.
    public static func setHausdorff(
        prediction: [Bool], reference: [Bool], grid: Grid3D, spacing: [Double]
    ) -> (predictionToReference: Double, referenceToPrediction: Double)? {
        guard let pair = CroppedPair(prediction: prediction, reference: reference, grid: grid) else { return nil }
        guard pair.bothNonEmpty else { return nil }
        let maps = pair.surfaceDistanceMaps(spacing: spacing)
        return pair.setHausdorff(maps)
    }

    /// ∂6 surface-to-surface distances (medpy `__surface_distances` with `connectivity=1`, MONAI
    /// `get_surface_distance` with Euclidean distance): for each ∂6 voxel of the prediction the
    /// distance to the nearest ∂6 voxel of the reference, and the other way round. Unsorted, in memory
    /// order of the source voxels. Nil when either mask is empty.
    public static func surfaceDistances(
        prediction: [Bool], reference: [Bool], grid: Grid3D, spacing: [Double]
    ) -> (predictionToReference: [Double], referenceToPrediction: [Double])? {
        guard let pair = CroppedPair(prediction: prediction, reference: reference, grid: grid) else { return nil }
        guard pair.bothNonEmpty else { return nil }
        let maps = pair.surfaceDistanceMaps(spacing: spacing)
        return pair.surfaceDistances(maps)
    }

    /// Corner surfels of both masks with their marching-cubes areas and distances to the other mask's
    /// surfels (DeepMind `compute_surface_distances(gt, pred, spacing)`, unsorted). Nil when both masks
    /// are empty; when one is empty, its lists are empty and the other's distances are +infinity.
    public static func surfels(
        prediction: [Bool], reference: [Bool], grid: Grid3D, spacing: [Double]
    ) -> SurfelDistances? {
        guard let pair = CroppedPair(prediction: prediction, reference: reference, grid: grid) else { return nil }
        return pair.surfels(spacing: spacing)
    }

    /// numpy's default (`method="linear"`) percentile of an ascending array: h = (n − 1)·q, then
    /// linear interpolation between elements ⌊h⌋ and ⌈h⌉ (`torch.quantile` uses the same rule).
    /// `q` is a fraction in [0, 1]. Nil for an empty array.
    public static func linearPercentile(sorted values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let h = Double(values.count - 1) * q
        let lower = Int(h.rounded(.down))
        let upper = min(lower + 1, values.count - 1)
        let t = h - Double(lower)
        let a = values[lower], b = values[upper]
        if t == 0 || a == b { return a }
        // numpy's _lerp: interpolate from the nearer end.
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }
}

/// Corner surfels (DeepMind's "surface elements") of a reference and a prediction mask.
public struct SurfelDistances: Sendable {
    /// For each reference surfel: the distance (mm) to the nearest prediction surfel.
    public var referenceToPrediction: [Double]
    /// The reference surfels' areas (mm²), in the same order.
    public var referenceAreas: [Double]
    /// For each prediction surfel: the distance (mm) to the nearest reference surfel.
    public var predictionToReference: [Double]
    /// The prediction surfels' areas (mm²), in the same order.
    public var predictionAreas: [Double]

    /// DeepMind `compute_surface_dice_at_tolerance` (= MONAI `compute_surface_dice(use_subvoxels=True)`):
    /// (Σ area_G[d ≤ τ] + Σ area_P[d ≤ τ]) / (Σ area_G + Σ area_P). Nil when both are empty (0/0).
    public func surfaceDice(tolerance: Double) -> Double? {
        var within = 0.0, total = 0.0
        for (d, a) in zip(referenceToPrediction, referenceAreas) {
            total += a
            if d <= tolerance { within += a }
        }
        for (d, a) in zip(predictionToReference, predictionAreas) {
            total += a
            if d <= tolerance { within += a }
        }
        return total > 0 ? within / total : nil
    }
}

/// Both masks cropped to the bounding box of their union. Every measure here is unchanged by that
/// crop: all sites lie inside it, and voxels beyond it are background, exactly as beyond the image.
struct CroppedPair {
    let grid: Grid3D
    let prediction: [Bool]
    let reference: [Bool]
    let predictionCount: Int
    let referenceCount: Int

    var bothNonEmpty: Bool { predictionCount > 0 && referenceCount > 0 }

    /// Nil when both masks are empty.
    init?(prediction: [Bool], reference: [Bool], grid: Grid3D) {
        precondition(prediction.count == grid.count && reference.count == grid.count,
                     "masks have \(prediction.count) and \(reference.count) voxels, grid \(grid) needs \(grid.count)")
        let boxP = VoxelBox.bounding(prediction, grid: grid)
        let boxG = VoxelBox.bounding(reference, grid: grid)
        let box: VoxelBox
        switch (boxP, boxG) {
        case (nil, nil): return nil
        case let (p?, nil): box = p
        case let (nil, g?): box = g
        case let (p?, g?): box = p.union(g)
        }
        self.grid = box.grid
        self.prediction = box.crop(prediction, grid: grid)
        self.reference = box.crop(reference, grid: grid)
        self.predictionCount = self.prediction.reduce(0) { $0 + ($1 ? 1 : 0) }
        self.referenceCount = self.reference.reduce(0) { $0 + ($1 ? 1 : 0) }
    }

    struct SurfaceMaps {
        let predictionSurface: [Bool]
        let referenceSurface: [Bool]
        /// Squared distance of every voxel to ∂6 of the prediction / the reference.
        let toPredictionSurface: [Double]
        let toReferenceSurface: [Double]
    }

    func surfaceDistanceMaps(spacing: [Double]) -> SurfaceMaps {
        let sp = MaskMorphology.surface(prediction, grid: grid, connectivity: .six, border: .background)
        let sg = MaskMorphology.surface(reference, grid: grid, connectivity: .six, border: .background)
        return SurfaceMaps(
            predictionSurface: sp, referenceSurface: sg,
            toPredictionSurface: DistanceTransform.squaredDistances(toSites: sp, grid: grid, spacing: spacing),
            toReferenceSurface: DistanceTransform.squaredDistances(toSites: sg, grid: grid, spacing: spacing))
    }

    /// For a voxel outside a mask M, the nearest voxel of M is on ∂6(M): a step from an interior voxel
    /// towards the outside point along an axis where they differ by ≥ 1 voxel always gets closer. So
    /// d(p, M) = d(p, ∂6 M) for p ∉ M, and 0 for p ∈ M: the surface maps give the set Hausdorff too.
    func setHausdorff(_ maps: SurfaceMaps) -> (predictionToReference: Double, referenceToPrediction: Double) {
        var pg = 0.0, gp = 0.0
        for v in 0..<grid.count {
            let inP = prediction[v], inG = reference[v]
            if inP && !inG { pg = max(pg, maps.toReferenceSurface[v]) }
            if inG && !inP { gp = max(gp, maps.toPredictionSurface[v]) }
        }
        return (pg.squareRoot(), gp.squareRoot())
    }

    func surfaceDistances(_ maps: SurfaceMaps) -> (predictionToReference: [Double], referenceToPrediction: [Double]) {
        var pg: [Double] = [], gp: [Double] = []
        for v in 0..<grid.count {
            if maps.predictionSurface[v] { pg.append(maps.toReferenceSurface[v].squareRoot()) }
            if maps.referenceSurface[v] { gp.append(maps.toPredictionSurface[v].squareRoot()) }
        }
        return (pg, gp)
    }

    /// Neighbour codes on the (n+1)³ grid of voxel corners: corner c sits between voxels c − 1 and c
    /// on each axis, voxels beyond the crop count as background.
    static func cornerCodes(_ mask: [Bool], grid: Grid3D) -> (codes: [UInt8], corners: Grid3D) {
        let corners = Grid3D(grid.ni + 1, grid.nj + 1, grid.nk + 1)
        var codes = [UInt8](repeating: 0, count: corners.count)
        // The voxel v is at offset (a, b, c) from corner − 1 for the corners v + 1 − (a, b, c).
        var bits = [UInt8](repeating: 0, count: 8)
        var deltas = [Int](repeating: 0, count: 8)
        for a in 0...1 {
            for b in 0...1 {
                for c in 0...1 {
                    let n = 4 * a + 2 * b + c
                    bits[n] = SurfelAreaTable.bit(a, b, c)
                    deltas[n] = corners.index(1 - a, 1 - b, 1 - c)
                }
            }
        }
        mask.withUnsafeBufferPointer { m in
            codes.withUnsafeMutableBufferPointer { out in
                var v = 0
                for k in 0..<grid.nk {
                    for j in 0..<grid.nj {
                        for i in 0..<grid.ni {
                            defer { v += 1 }
                            guard m[v] else { continue }
                            let base = corners.index(i, j, k)
                            for n in 0..<8 { out[base + deltas[n]] |= bits[n] }
                        }
                    }
                }
            }
        }
        return (codes, corners)
    }

    func surfels(spacing: [Double]) -> SurfelDistances {
        let table = SurfelAreaTable(spacing: spacing)
        let (codesP, corners) = Self.cornerCodes(prediction, grid: grid)
        let (codesG, _) = Self.cornerCodes(reference, grid: grid)
        let sitesP = codesP.map { $0 != 0 && $0 != 255 }
        let sitesG = codesG.map { $0 != 0 && $0 != 255 }
        let toP = DistanceTransform.squaredDistances(toSites: sitesP, grid: corners, spacing: spacing)
        let toG = DistanceTransform.squaredDistances(toSites: sitesG, grid: corners, spacing: spacing)
        var result = SurfelDistances(referenceToPrediction: [], referenceAreas: [], predictionToReference: [], predictionAreas: [])
        for c in 0..<corners.count {
            if sitesG[c] {
                result.referenceToPrediction.append(toP[c].squareRoot())
                result.referenceAreas.append(table.areas[Int(codesG[c])])
            }
            if sitesP[c] {
                result.predictionToReference.append(toG[c].squareRoot())
                result.predictionAreas.append(table.areas[Int(codesP[c])])
            }
        }
        return result
    }
}
