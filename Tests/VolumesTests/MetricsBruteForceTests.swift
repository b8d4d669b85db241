import Foundation
import XCTest
import Volumes

/// Random mask pairs of the fixture kinds (shifted, eroded/dilated, noisy, disjoint, nested,
/// border-cut, single voxels, scattered), compared with O(n·m) implementations of the definitions.
final class MetricsBruteForceTests: XCTestCase {
    static let spacings: [[Double]] = [[1, 1, 1], [1, 1, 1.2000000476837158], [0.9375, 0.9375, 1.5],
                                       [0.800000011920929, 1.100000023841858, 2]]

    func randomPair(_ trial: Int, rng: inout TestRNG) -> (Grid3D, [Double], [Bool], [Bool], String) {
        let grid = trial % 15 == 14 ? Grid3D(24, 28, 20) : Grid3D(rng.int(6...16), rng.int(6...15), rng.int(5...12))
        let spacing = trial % 5 == 4
            ? [rng.uniform(0.4, 2.2), rng.uniform(0.4, 2.2), rng.uniform(0.4, 2.2)]
            : Self.spacings[trial % Self.spacings.count]
        let reference = MaskFactory.blobs(grid, spacing: spacing, count: rng.int(1...3), rng: &rng)
        switch trial % 10 {
        case 0:
            let d = (rng.int(-2...2), rng.int(-2...2), rng.int(-1...1))
            return (grid, spacing, MaskFactory.shifted(reference, grid: grid, by: d), reference, "shift \(d)")
        case 1:
            return (grid, spacing, MaskMorphology.erode(reference, grid: grid, structure: .six), reference, "eroded6")
        case 2:
            return (grid, spacing, MaskMorphology.dilate(reference, grid: grid, structure: .twentySix), reference, "dilated26")
        case 3:
            return (grid, spacing, MaskFactory.noisy(reference, grid: grid, p: 0.3, rng: &rng), reference, "noisy")
        case 4:
            return (grid, spacing, MaskFactory.blobs(grid, spacing: spacing, count: 2, rng: &rng), reference, "independent blobs")
        case 5:
            var p = reference
            p[grid.index(rng.int(0...grid.ni - 1), rng.int(0...grid.nj - 1), rng.int(0...grid.nk - 1))] = true
            return (grid, spacing, p, reference, "stray voxel")
        case 6:
            let p = MaskFactory.random(grid, density: 0.03, rng: &rng)
            return (grid, spacing, p, MaskFactory.random(grid, density: 0.05, rng: &rng), "scattered voxels")
        case 7:
            var a = MaskFactory.empty(grid), b = MaskFactory.empty(grid)
            a[grid.index(rng.int(0...grid.ni - 1), rng.int(0...grid.nj - 1), rng.int(0...grid.nk - 1))] = true
            b[grid.index(rng.int(0...grid.ni - 1), rng.int(0...grid.nj - 1), rng.int(0...grid.nk - 1))] = true
            return (grid, spacing, a, b, "single voxels")
        case 8:
            // Hollow shell vs the filled object: the set Hausdorff sees the cavity, surfaces do not.
            let filled = MaskFactory.ellipsoid(grid, spacing: spacing,
                                               centre: [Double(grid.ni) * spacing[0] / 2, Double(grid.nj) * spacing[1] / 2, Double(grid.nk) * spacing[2] / 2],
                                               radii: [rng.uniform(3, 6), rng.uniform(3, 6), rng.uniform(3, 6)])
            let core = MaskMorphology.erode(MaskMorphology.erode(filled, grid: grid), grid: grid)
            return (grid, spacing, filled, zip(filled, core).map { $0 && !$1 }, "hollow shell")
        default:
            // Border cut: both masks cropped by the face i = 0.
            let g = MaskFactory.shifted(reference, grid: grid, by: (-grid.ni / 3, 0, 0))
            return (grid, spacing, MaskFactory.shifted(g, grid: grid, by: (1, 0, 1)), g, "border cut")
        }
    }

    func testRandomPairsAgainstBruteForce() {
        var rng = TestRNG(seed: 2024)
        var worst: [String: Double] = [:]
        var partialNSD = 0, directedDiffersFromPooled = 0, setDiffersFromSurface = 0, undefined = 0
        for trial in 0..<90 {
            let (grid, spacing, prediction, reference, kind) = randomPair(trial, rng: &rng)
            let ours = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: spacing)
            let brute = BruteForce.metrics(prediction: prediction, reference: reference, grid: grid, spacing: spacing)
            let label = "trial \(trial) (\(kind), \(grid), spacing \(spacing))"
            let pairs: [(String, Double?, Double?)] = [
                ("dice", ours.dice, brute.dice), ("hd_max", ours.hdMax, brute.hdMax), ("hd95", ours.hd95, brute.hd95),
                ("hd95_medpy", ours.hd95Medpy, brute.hd95Medpy), ("assd", ours.assd, brute.assd),
                ("nsd_1mm", ours.nsd1mm, brute.nsd), ("volume_ref", ours.volumeRefMM3, brute.volumeRef),
                ("volume_pred", ours.volumePredMM3, brute.volumePred),
            ]
            for (name, a, b) in pairs {
                XCTAssertTrue(close(a, b), "\(label): \(name) \(a.map { "\($0)" } ?? "nil") vs brute force \(b.map { "\($0)" } ?? "nil")")
                if let a, let b { worst[name] = max(worst[name] ?? 0, abs(a - b) / max(abs(b), 1e-300)) }
            }
            if let nsd = ours.nsd1mm, nsd > 0, nsd < 1 { partialNSD += 1 }
            if let a = ours.hd95, let b = ours.hd95Medpy, a != b { directedDiffersFromPooled += 1 }
            if let (pg, gp) = MaskDistances.surfaceDistances(prediction: prediction, reference: reference, grid: grid, spacing: spacing),
               ours.hdMax != max(pg.max()!, gp.max()!) { setDiffersFromSurface += 1 }
            if ours.hdMax == nil { undefined += 1 }
        }
        print("random pairs: \(partialNSD) with 0 < NSD < 1, \(directedDiffersFromPooled) with MONAI hd95 ≠ medpy hd95, " +
              "\(setDiffersFromSurface) with set HD ≠ surface HD, \(undefined) with an empty mask")
        // The random cases must exercise the distinctions, not just agree on trivial values.
        XCTAssertGreaterThan(partialNSD, 40)
        XCTAssertGreaterThan(directedDiffersFromPooled, 20)
        XCTAssertGreaterThan(setDiffersFromSurface, 3)
        print("random pairs vs brute force, worst relative error: " +
              worst.keys.sorted().map { "\($0) \(String(format: "%.1e", worst[$0]!))" }.joined(separator: ", "))
    }

    func testRandomLabelMapsAgainstPerLabelBruteForce() throws {
        var rng = TestRNG(seed: 77)
        for trial in 0..<8 {
            let grid = Grid3D(rng.int(8...14), rng.int(8...13), rng.int(6...10))
            let spacing = Self.spacings[trial % Self.spacings.count]
            var reference = [Int32](repeating: 0, count: grid.count)
            var prediction = reference
            for label in Int32(1)...3 {
                let r = MaskFactory.blobs(grid, spacing: spacing, count: 1, rng: &rng)
                let p = trial % 2 == 0 ? MaskFactory.shifted(r, grid: grid, by: (1, 0, 0))
                    : MaskFactory.noisy(r, grid: grid, p: 0.2, rng: &rng)
                for v in 0..<grid.count {
                    if r[v] && (label != 3 || trial % 3 != 0) { reference[v] = label }
                    if p[v] { prediction[v] = label }
                }
            }
            let m = try evaluateSegmentation(prediction: prediction, reference: reference, shape: grid.shape, spacing: spacing)
            for key in m.keys {
                let select: (Int32) -> Bool = key == "all" ? { $0 != 0 } : { [label = Int32(key)!] in $0 == label }
                let brute = BruteForce.metrics(prediction: prediction.map(select), reference: reference.map(select),
                                               grid: grid, spacing: spacing)
                let ours = m[key]!
                XCTAssertTrue(close(ours.dice, brute.dice), "trial \(trial) label \(key) dice")
                XCTAssertTrue(close(ours.hdMax, brute.hdMax), "trial \(trial) label \(key) hd_max")
                XCTAssertTrue(close(ours.hd95, brute.hd95), "trial \(trial) label \(key) hd95")
                XCTAssertTrue(close(ours.hd95Medpy, brute.hd95Medpy), "trial \(trial) label \(key) hd95_medpy")
                XCTAssertTrue(close(ours.assd, brute.assd), "trial \(trial) label \(key) assd")
                XCTAssertTrue(close(ours.nsd1mm, brute.nsd), "trial \(trial) label \(key) nsd")
            }
        }
    }
}

/// Timings on the sizes the brief names. Printed; the bounds are loose for a busy 2-core machine.
final class MetricsPerformanceTests: XCTestCase {
    /// Wall-clock seconds; also prints the process CPU seconds (all threads), which tell more than the
    /// wall clock when other builds share the two cores.
    func time(_ label: String? = nil, _ body: () throws -> Void) rethrows -> Double {
        func cpu() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        let start = Date(), startCPU = cpu()
        try body()
        let wall = Date().timeIntervalSince(start)
        if let label {
            print("\(label): wall \(String(format: "%.3f", wall)) s, CPU \(String(format: "%.3f", cpu() - startCPU)) s " +
                  "(\(DistanceTransform.workers) EDT workers; load \(loadAverage()))")
        }
        return wall
    }

    func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(1).joined()
    }

    func testTimings() throws {
        // 48×48×40: rotated-ish ellipsoid vs a shifted copy (the fixture size).
        let small = Grid3D(48, 48, 40)
        let spacing = [1.0, 1.0, 1.2]
        let ref = MaskFactory.ellipsoid(small, spacing: spacing, centre: [24, 23, 24], radii: [14, 10, 12])
        let pred = MaskFactory.shifted(ref, grid: small, by: (1, -1, 1))
        _ = evaluateBinarySegmentation(prediction: pred, reference: ref, grid: small, spacing: spacing)  // warm-up
        var best = Double.infinity
        for _ in 0..<5 {
            best = min(best, time { _ = evaluateBinarySegmentation(prediction: pred, reference: ref, grid: small, spacing: spacing) })
        }
        print("metrics 48×48×40 (binary ellipsoid pair): \(String(format: "%.1f", best * 1000)) ms")
        XCTAssertLessThan(best, 0.25)

        // 182×218×182 (MNI 1 mm): two hippocampus-sized labels, and a brain-sized ellipsoid (worst case).
        let big = Grid3D(182, 218, 182)
        let one = [1.0, 1.0, 1.0]
        let left = MaskFactory.ellipsoid(big, spacing: one, centre: [60, 110, 70], radii: [9, 20, 8])
        let right = MaskFactory.ellipsoid(big, spacing: one, centre: [122, 110, 70], radii: [9, 20, 8])
        var reference = [Int32](repeating: 0, count: big.count)
        for v in 0..<big.count { reference[v] = left[v] ? 1 : right[v] ? 2 : 0 }
        var prediction = [Int32](repeating: 0, count: big.count)
        let l2 = MaskFactory.shifted(left, grid: big, by: (1, 2, 0)), r2 = MaskFactory.shifted(right, grid: big, by: (-1, 0, 1))
        for v in 0..<big.count { prediction[v] = l2[v] ? 1 : r2[v] ? 2 : 0 }
        prediction[big.index(5, 5, 5)] = 1  // a stray voxel far away widens label 1's box
        let labelTime = try time("metrics 182×218×182 (labels 1, 2 + all, hippocampus-sized, one stray voxel)") {
            _ = try evaluateSegmentation(prediction: prediction, reference: reference, shape: big.shape, spacing: one)
        }

        let brain = MaskFactory.ellipsoid(big, spacing: one, centre: [91, 109, 91], radii: [70, 88, 72])
        let brainPred = MaskFactory.shifted(MaskMorphology.erode(brain, grid: big, structure: .six), grid: big, by: (2, 0, -1))
        let brainTime = time("metrics 182×218×182 (binary brain-sized ellipsoids, box ≈ whole volume)") {
            _ = evaluateBinarySegmentation(prediction: brainPred, reference: brain, grid: big, spacing: one)
        }
        XCTAssertLessThan(max(labelTime, brainTime), 10)
    }
}
