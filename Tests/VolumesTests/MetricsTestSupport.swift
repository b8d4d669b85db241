import Foundation
import Volumes

/// Deterministic generator for the randomised tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }
}

/// Mask builders in physical (mm) space, so anisotropic shapes stay round.
enum MaskFactory {
    static func empty(_ grid: Grid3D) -> [Bool] { [Bool](repeating: false, count: grid.count) }

    /// Voxels whose centre lies inside an axis-aligned ellipsoid (centre and radii in mm).
    static func ellipsoid(_ grid: Grid3D, spacing: [Double], centre: [Double], radii: [Double]) -> [Bool] {
        var mask = empty(grid)
        for k in 0..<grid.nk {
            for j in 0..<grid.nj {
                for i in 0..<grid.ni {
                    let x = (Double(i) * spacing[0] - centre[0]) / radii[0]
                    let y = (Double(j) * spacing[1] - centre[1]) / radii[1]
                    let z = (Double(k) * spacing[2] - centre[2]) / radii[2]
                    if x * x + y * y + z * z <= 1 { mask[grid.index(i, j, k)] = true }
                }
            }
        }
        return mask
    }

    static func box(_ grid: Grid3D, _ i: Range<Int>, _ j: Range<Int>, _ k: Range<Int>) -> [Bool] {
        var mask = empty(grid)
        for kk in k { for jj in j { for ii in i { mask[grid.index(ii, jj, kk)] = true } } }
        return mask
    }

    static func shifted(_ mask: [Bool], grid: Grid3D, by d: (Int, Int, Int)) -> [Bool] {
        var out = empty(grid)
        for k in 0..<grid.nk {
            for j in 0..<grid.nj {
                for i in 0..<grid.ni where mask[grid.index(i, j, k)] {
                    let (a, b, c) = (i + d.0, j + d.1, k + d.2)
                    if grid.contains(a, b, c) { out[grid.index(a, b, c)] = true }
                }
            }
        }
        return out
    }

    /// A union of a few random ellipsoids (some may touch the image faces).
    static func blobs(_ grid: Grid3D, spacing: [Double], count: Int, rng: inout TestRNG) -> [Bool] {
        var mask = empty(grid)
        let extent = [Double(grid.ni) * spacing[0], Double(grid.nj) * spacing[1], Double(grid.nk) * spacing[2]]
        for _ in 0..<count {
            let centre = (0..<3).map { rng.uniform(0, extent[$0]) }
            let radii = (0..<3).map { _ in rng.uniform(1.0, 0.3 * extent.min()! + 1.5) }
            let e = ellipsoid(grid, spacing: spacing, centre: centre, radii: radii)
            for v in 0..<grid.count where e[v] { mask[v] = true }
        }
        return mask
    }

    /// Flips each voxel next to the boundary of `mask` with probability `p`.
    static func noisy(_ mask: [Bool], grid: Grid3D, p: Double, rng: inout TestRNG) -> [Bool] {
        let band = zip(MaskMorphology.dilate(mask, grid: grid, structure: .twentySix),
                       MaskMorphology.erode(mask, grid: grid, structure: .twentySix)).map { $0 && !$1 }
        var out = mask
        for v in 0..<grid.count where band[v] && rng.bernoulli(p) { out[v].toggle() }
        return out
    }

    static func random(_ grid: Grid3D, density: Double, rng: inout TestRNG) -> [Bool] {
        (0..<grid.count).map { _ in rng.bernoulli(density) }
    }
}

/// Straight-from-the-definition implementations (DEFINITIONS.md), O(n·m), sharing no code with the
/// library except the surfel area data table.
enum BruteForce {
    typealias Point = (Int, Int, Int)

    static func points(_ mask: [Bool], _ grid: Grid3D) -> [Point] {
        var out: [Point] = []
        for k in 0..<grid.nk { for j in 0..<grid.nj { for i in 0..<grid.ni where mask[grid.index(i, j, k)] { out.append((i, j, k)) } } }
        return out
    }

    static func distance(_ a: Point, _ b: Point, _ s: [Double]) -> Double {
        let x = Double(a.0 - b.0) * s[0], y = Double(a.1 - b.1) * s[1], z = Double(a.2 - b.2) * s[2]
        return (x * x + y * y + z * z).squareRoot()
    }

    /// d(a, S) for every a in A.
    static func directed(_ a: [Point], _ b: [Point], _ s: [Double]) -> [Double] {
        a.map { p in b.reduce(Double.infinity) { min($0, distance(p, $1, s)) } }
    }

    /// ∂6: a foreground voxel with a face neighbour that is background or off the image.
    static func surface6(_ mask: [Bool], _ grid: Grid3D) -> [Bool] {
        var out = [Bool](repeating: false, count: grid.count)
        let faces = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
        for k in 0..<grid.nk {
            for j in 0..<grid.nj {
                for i in 0..<grid.ni where mask[grid.index(i, j, k)] {
                    out[grid.index(i, j, k)] = faces.contains { d in
                        let (a, b, c) = (i + d.0, j + d.1, k + d.2)
                        return !grid.contains(a, b, c) || !mask[grid.index(a, b, c)]
                    }
                }
            }
        }
        return out
    }

    /// numpy.percentile(values, 100·q), method "linear", written plainly.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let v = values.sorted()
        let h = Double(v.count - 1) * q
        let lo = Int(floor(h)), hi = Int(ceil(h))
        return v[lo] + (v[hi] - v[lo]) * (h - Double(lo))
    }

    /// Corner surfels on the full (n+1)³ corner grid: (corner, area) for codes other than 0 and 255.
    static func surfels(_ mask: [Bool], _ grid: Grid3D, _ table: SurfelAreaTable) -> [(Point, Double)] {
        var out: [(Point, Double)] = []
        for ck in 0...grid.nk {
            for cj in 0...grid.nj {
                for ci in 0...grid.ni {
                    var code = 0
                    for a in 0...1 {
                        for b in 0...1 {
                            for c in 0...1 {
                                let (i, j, k) = (ci - 1 + a, cj - 1 + b, ck - 1 + c)
                                if grid.contains(i, j, k) && mask[grid.index(i, j, k)] {
                                    code |= 1 << (7 - (4 * a + 2 * b + c))
                                }
                            }
                        }
                    }
                    if code != 0 && code != 255 { out.append(((ci, cj, ck), table.areas[code])) }
                }
            }
        }
        return out
    }

    struct Result {
        var dice: Double
        var hdMax: Double?
        var hd95: Double?
        var hd95Medpy: Double?
        var assd: Double?
        var nsd: Double?
        var volumeRef: Double
        var volumePred: Double
    }

    static func metrics(prediction: [Bool], reference: [Bool], grid: Grid3D, spacing s: [Double], tau: Double = 1) -> Result {
        let p = points(prediction, grid), g = points(reference, grid)
        let overlap = zip(prediction, reference).filter { $0 && $1 }.count
        let voxel = s[0] * s[1] * s[2]
        var r = Result(dice: p.count + g.count == 0 ? 1 : 2 * Double(overlap) / Double(p.count + g.count),
                       volumeRef: Double(g.count) * voxel, volumePred: Double(p.count) * voxel)
        let table = SurfelAreaTable(spacing: s)
        let sp = surfels(prediction, grid, table), sg = surfels(reference, grid, table)
        if p.isEmpty && g.isEmpty { return r }
        if p.isEmpty || g.isEmpty { r.nsd = 0; return r }
        r.hdMax = max(directed(p, g, s).max()!, directed(g, p, s).max()!)
        let bp = points(surface6(prediction, grid), grid), bg = points(surface6(reference, grid), grid)
        let dpg = directed(bp, bg, s), dgp = directed(bg, bp, s)
        r.hd95 = max(percentile(dpg, 0.95), percentile(dgp, 0.95))
        r.hd95Medpy = percentile(dpg + dgp, 0.95)
        r.assd = (dpg + dgp).reduce(0, +) / Double(dpg.count + dgp.count)
        // Corner distances: corner c sits at (c − ½)·s; the ½ cancels in differences.
        let cg = directed(sg.map { $0.0 }, sp.map { $0.0 }, s), cp = directed(sp.map { $0.0 }, sg.map { $0.0 }, s)
        var within = 0.0, total = 0.0
        for (d, a) in zip(cg, sg.map { $0.1 }) { total += a; if d <= tau { within += a } }
        for (d, a) in zip(cp, sp.map { $0.1 }) { total += a; if d <= tau { within += a } }
        r.nsd = within / total
        return r
    }

    /// Flood-fill components (BFS from voxels in memory order), joining equal non-zero values.
    static func components(_ values: [Int32], _ grid: Grid3D, _ connectivity: VoxelConnectivity) -> (labels: [Int32], sizes: [Int]) {
        var labels = [Int32](repeating: 0, count: grid.count)
        var sizes: [Int] = []
        var offsets: [Point] = []
        for dk in -1...1 { for dj in -1...1 { for di in -1...1 {
            let n = abs(di) + abs(dj) + abs(dk)
            if n == 0 || (connectivity == .six && n > 1) { continue }
            offsets.append((di, dj, dk))
        } } }
        for k in 0..<grid.nk {
            for j in 0..<grid.nj {
                for i in 0..<grid.ni {
                    let start = grid.index(i, j, k)
                    guard values[start] != 0, labels[start] == 0 else { continue }
                    sizes.append(0)
                    let label = Int32(sizes.count)
                    labels[start] = label
                    var queue = [(i, j, k)]
                    var head = 0
                    while head < queue.count {
                        let (a, b, c) = queue[head]
                        head += 1
                        sizes[Int(label) - 1] += 1
                        for d in offsets {
                            let (x, y, z) = (a + d.0, b + d.1, c + d.2)
                            guard grid.contains(x, y, z) else { continue }
                            let q = grid.index(x, y, z)
                            if labels[q] == 0 && values[q] == values[start] {
                                labels[q] = label
                                queue.append((x, y, z))
                            }
                        }
                    }
                }
            }
        }
        return (labels, sizes)
    }
}

/// |a − b| ≤ rel·|b| + abs, with nil ≡ nil.
func close(_ a: Double?, _ b: Double?, rel: Double = 1e-9, abs absolute: Double = 1e-12) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (x?, y?): return Swift.abs(x - y) <= rel * Swift.abs(y) + absolute
    default: return false
    }
}
