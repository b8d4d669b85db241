import XCTest
import Volumes

final class MorphologyComponentsTests: XCTestCase {
    func testLabellingMatchesFloodFillOnRandomMasks() {
        var rng = TestRNG(seed: 11)
        for trial in 0..<24 {
            let grid = Grid3D(rng.int(1...13), rng.int(1...11), rng.int(1...9))
            let mask = MaskFactory.random(grid, density: rng.uniform(0.1, 0.7), rng: &rng)
            for connectivity in [VoxelConnectivity.six, .twentySix] {
                let cc = MaskMorphology.connectedComponents(mask, grid: grid, connectivity: connectivity)
                let brute = BruteForce.components(mask.map { $0 ? 1 : 0 }, grid, connectivity)
                XCTAssertEqual(cc.labels, brute.labels, "trial \(trial) \(connectivity) \(grid)")
                XCTAssertEqual(cc.sizes, brute.sizes, "trial \(trial) \(connectivity)")
                XCTAssertEqual(cc.values, [Int32](repeating: 1, count: cc.count))
            }
        }
    }

    func testLabelMapComponentsJoinOnlyEqualValues() {
        var rng = TestRNG(seed: 12)
        for trial in 0..<16 {
            let grid = Grid3D(rng.int(2...12), rng.int(2...10), rng.int(2...8))
            let map: [Int32] = (0..<grid.count).map { _ in rng.bernoulli(0.4) ? 0 : Int32(rng.int(1...3)) }
            for connectivity in [VoxelConnectivity.six, .twentySix] {
                let cc = MaskMorphology.connectedComponents(labelMap: map, grid: grid, connectivity: connectivity)
                let brute = BruteForce.components(map, grid, connectivity)
                XCTAssertEqual(cc.labels, brute.labels, "trial \(trial) \(connectivity)")
                XCTAssertEqual(cc.sizes, brute.sizes)
                for (v, c) in cc.labels.enumerated() where c != 0 { XCTAssertEqual(cc.values[Int(c) - 1], map[v]) }
            }
        }
    }

    func testDiagonalNeighboursJoinOnlyWith26Connectivity() {
        let grid = Grid3D(3, 3, 3)
        var mask = MaskFactory.empty(grid)
        mask[grid.index(0, 0, 0)] = true
        mask[grid.index(1, 1, 1)] = true  // corner neighbour
        mask[grid.index(2, 2, 1)] = true  // edge neighbour of (1,1,1)
        XCTAssertEqual(MaskMorphology.connectedComponents(mask, grid: grid, connectivity: .six).count, 3)
        XCTAssertEqual(MaskMorphology.connectedComponents(mask, grid: grid, connectivity: .twentySix).sizes, [3])
        XCTAssertEqual(MaskMorphology.connectedComponents(MaskFactory.empty(grid), grid: grid).count, 0)
    }

    func testUShapeMergesLaterIntoFirstLabel() {
        // Two arms that meet only at the bottom: provisional labels must merge.
        let grid = Grid3D(5, 4, 1)
        let rows = ["X...X", "X...X", "X...X", "XXXXX"]
        var mask = MaskFactory.empty(grid)
        for (j, row) in rows.enumerated() { for (i, ch) in row.enumerated() where ch == "X" { mask[grid.index(i, j, 0)] = true } }
        let cc = MaskMorphology.connectedComponents(mask, grid: grid)
        XCTAssertEqual(cc.sizes, [11])
        XCTAssertEqual(Set(cc.labels.filter { $0 != 0 }), [1])
    }

    func testRemoveSmallAndKeepLargest() {
        var rng = TestRNG(seed: 13)
        for trial in 0..<12 {
            let grid = Grid3D(rng.int(4...14), rng.int(4...12), rng.int(3...10))
            let mask = MaskFactory.random(grid, density: rng.uniform(0.15, 0.45), rng: &rng)
            for connectivity in [VoxelConnectivity.six, .twentySix] {
                let brute = BruteForce.components(mask.map { $0 ? 1 : 0 }, grid, connectivity)
                let minimum = rng.int(1...6)
                let removed = MaskMorphology.removeSmallComponents(mask, grid: grid, minimumSize: minimum, connectivity: connectivity)
                let expectedRemoved = brute.labels.map { $0 != 0 && brute.sizes[Int($0) - 1] >= minimum }
                XCTAssertEqual(removed, expectedRemoved, "trial \(trial) remove < \(minimum)")

                let k = rng.int(0...3)
                let kept = MaskMorphology.keepLargestComponents(mask, grid: grid, count: k, connectivity: connectivity)
                // Brute force: stable sort by size descending keeps first-seen components on ties.
                let order = brute.sizes.indices.sorted { brute.sizes[$0] != brute.sizes[$1] ? brute.sizes[$0] > brute.sizes[$1] : $0 < $1 }
                let chosen = Set(order.prefix(k).map { Int32($0 + 1) })
                XCTAssertEqual(kept, brute.labels.map { chosen.contains($0) }, "trial \(trial) keep \(k)")
            }
        }
    }

    func testPapersPostProcessingDropsBlobsUnder1000Voxels() {
        let grid = Grid3D(40, 30, 20)
        var mask = MaskFactory.box(grid, 0..<20, 0..<10, 0..<5)   // 1000 voxels: stays
        let small = MaskFactory.box(grid, 25..<40, 15..<30, 10..<14)  // 900 voxels: goes
        let touching = MaskFactory.box(grid, 20..<21, 9..<10, 4..<5)  // one voxel touching the first by a face
        for v in 0..<grid.count where small[v] || touching[v] { mask[v] = true }
        let out = MaskMorphology.removeSmallComponents(mask, grid: grid)
        XCTAssertEqual(out.filter { $0 }.count, 1001)
        XCTAssertFalse(out[grid.index(30, 20, 12)])
        let largest = MaskMorphology.keepLargestComponents(mask, grid: grid, count: 1)
        XCTAssertEqual(largest, out)
    }

    func testLabelMapPostProcessingPerLabel() {
        let grid = Grid3D(10, 4, 1)
        var map = [Int32](repeating: 0, count: grid.count)
        for i in 0..<4 { map[grid.index(i, 0, 0)] = 1 }           // label 1, 4 voxels
        map[grid.index(9, 3, 0)] = 1                              // label 1, 1 voxel
        for i in 4..<6 { map[grid.index(i, 0, 0)] = 2 }           // label 2, 2 voxels, touching label 1
        map[grid.index(0, 3, 0)] = 2; map[grid.index(1, 3, 0)] = 2; map[grid.index(2, 3, 0)] = 2  // label 2, 3 voxels
        let removed = MaskMorphology.removeSmallComponents(labelMap: map, grid: grid, minimumSize: 3)
        XCTAssertEqual(removed.filter { $0 == 1 }.count, 4)
        XCTAssertEqual(removed.filter { $0 == 2 }.count, 3)
        XCTAssertEqual(removed[grid.index(9, 3, 0)], 0)
        let kept = MaskMorphology.keepLargestComponents(labelMap: map, grid: grid, count: 1)
        XCTAssertEqual(kept, removed)
    }

    func testLabellingIsFastOn200Cubed() {
        let grid = Grid3D(200, 200, 200)
        var rng = TestRNG(seed: 14)
        let mask = MaskFactory.blobs(Grid3D(50, 50, 50), spacing: [1, 1, 1], count: 6, rng: &rng)
        // Tile a 50³ blob pattern 4×4×4 times, plus salt noise.
        var big = MaskFactory.empty(grid)
        for k in 0..<200 { for j in 0..<200 { for i in 0..<200 {
            big[grid.index(i, j, k)] = mask[(i % 50) + 50 * ((j % 50) + 50 * (k % 50))] || (i * 7 + j * 13 + k * 29) % 97 == 0
        } } }
        for connectivity in [VoxelConnectivity.six, .twentySix] {
            let start = Date()
            let cc = MaskMorphology.connectedComponents(big, grid: grid, connectivity: connectivity)
            let seconds = Date().timeIntervalSince(start)
            print("connected components 200³ \(connectivity): \(cc.count) components in \(String(format: "%.3f", seconds)) s")
            XCTAssertLessThan(seconds, 5)
        }
    }
}

final class MorphologyErosionTests: XCTestCase {
    /// erode(M)(v) = M(v) ∧ all neighbours, neighbours off the image = border.
    func bruteErode(_ mask: [Bool], _ grid: Grid3D, _ structure: VoxelConnectivity, _ border: MaskMorphology.Border) -> [Bool] {
        var out = MaskFactory.empty(grid)
        for k in 0..<grid.nk { for j in 0..<grid.nj { for i in 0..<grid.ni where mask[grid.index(i, j, k)] {
            out[grid.index(i, j, k)] = structure.offsets.allSatisfy { d in
                let (a, b, c) = (i + d.0, j + d.1, k + d.2)
                return grid.contains(a, b, c) ? mask[grid.index(a, b, c)] : border == .foreground
            }
        } } }
        return out
    }

    func testErosionAndDilationMatchDefinitions() {
        var rng = TestRNG(seed: 21)
        for trial in 0..<20 {
            let grid = Grid3D(rng.int(1...10), rng.int(1...9), rng.int(1...8))
            let mask = MaskFactory.random(grid, density: rng.uniform(0.5, 0.95), rng: &rng)
            for structure in [VoxelConnectivity.six, .twentySix] {
                for border in [MaskMorphology.Border.background, .foreground] {
                    XCTAssertEqual(MaskMorphology.erode(mask, grid: grid, structure: structure, border: border),
                                   bruteErode(mask, grid, structure, border), "trial \(trial) \(structure) \(border)")
                }
                let dilated = MaskMorphology.dilate(mask.map { !$0 }, grid: grid, structure: structure)
                var expected = MaskFactory.empty(grid)
                for k in 0..<grid.nk { for j in 0..<grid.nj { for i in 0..<grid.ni {
                    let v = grid.index(i, j, k)
                    expected[v] = !mask[v] || structure.offsets.contains { d in
                        let (a, b, c) = (i + d.0, j + d.1, k + d.2)
                        return grid.contains(a, b, c) && !mask[grid.index(a, b, c)]
                    }
                } } }
                XCTAssertEqual(dilated, expected, "trial \(trial) dilate \(structure)")
            }
            XCTAssertEqual(MaskMorphology.surface(mask, grid: grid), BruteForce.surface6(mask, grid), "trial \(trial) ∂6")
        }
    }

    func testSurfaceOfCubeInsideAndAtTheBorder() {
        let grid = Grid3D(5, 5, 5)
        let cube = MaskFactory.box(grid, 1..<4, 1..<4, 1..<4)
        let surface = MaskMorphology.surface(cube, grid: grid)
        XCTAssertEqual(surface.filter { $0 }.count, 26)
        XCTAssertFalse(surface[grid.index(2, 2, 2)])

        // A cube filling the whole image: with the outside as background every voxel is surface (∂6),
        // with the outside as foreground (ITK LabelContour) none is.
        let full = Grid3D(3, 3, 3)
        let all = [Bool](repeating: true, count: full.count)
        XCTAssertEqual(MaskMorphology.surface(all, grid: full).filter { $0 }.count, 26)  // centre is interior
        XCTAssertEqual(MaskMorphology.surface(all, grid: full, connectivity: .six, border: .background).filter { $0 }.count, 26)
        XCTAssertEqual(MaskMorphology.surface(all, grid: full, connectivity: .twentySix, border: .foreground).filter { $0 }.count, 0)
        let slab = Grid3D(3, 3, 1)
        XCTAssertEqual(MaskMorphology.surface([Bool](repeating: true, count: 9), grid: slab).filter { $0 }.count, 9)
        // Thickness 2 slab cut by faces: with 26-structure and foreground border only the inner face is contour.
        let grid2 = Grid3D(4, 4, 4)
        let half = MaskFactory.box(grid2, 0..<4, 0..<4, 0..<2)
        XCTAssertEqual(MaskMorphology.surface(half, grid: grid2, connectivity: .twentySix, border: .foreground).filter { $0 }.count, 16)
        XCTAssertEqual(MaskMorphology.surface(half, grid: grid2).filter { $0 }.count, 32)
    }
}

final class MorphologyDistanceTransformTests: XCTestCase {
    func testExactAgainstBruteForceWithAnisotropicSpacing() {
        var rng = TestRNG(seed: 31)
        for trial in 0..<30 {
            let grid = trial < 3 ? Grid3D(trial + 1, 1, 2) : Grid3D(rng.int(1...22), rng.int(1...18), rng.int(1...14))
            let spacing = [rng.uniform(0.3, 2.5), rng.uniform(0.3, 2.5), rng.uniform(0.3, 2.5)]
            let sites = MaskFactory.random(grid, density: [0.002, 0.02, 0.1, 0.5][trial % 4], rng: &rng)
            let ours = DistanceTransform.squaredDistances(toSites: sites, grid: grid, spacing: spacing)
            let points = BruteForce.points(sites, grid)
            for k in 0..<grid.nk { for j in 0..<grid.nj { for i in 0..<grid.ni {
                let d = points.reduce(Double.infinity) { min($0, BruteForce.distance((i, j, k), $1, spacing)) }
                let got = ours[grid.index(i, j, k)]
                if d.isInfinite {
                    XCTAssertEqual(got, .infinity)
                } else {
                    XCTAssertEqual(got, d * d, accuracy: 1e-12 * max(1, d * d), "trial \(trial) at \((i, j, k)) spacing \(spacing)")
                }
            } } }
        }
    }

    func testNoSitesGivesInfinityAndOneSiteGivesExactDistances() {
        let grid = Grid3D(4, 5, 6)
        XCTAssertTrue(DistanceTransform.squaredDistances(toSites: MaskFactory.empty(grid), grid: grid, spacing: [1, 1, 1])
            .allSatisfy { $0 == .infinity })
        var sites = MaskFactory.empty(grid)
        sites[grid.index(3, 0, 5)] = true
        let d = DistanceTransform.distances(toSites: sites, grid: grid, spacing: [0.8, 1.1, 2.0])
        XCTAssertEqual(d[grid.index(3, 0, 5)], 0)
        XCTAssertEqual(d[grid.index(0, 4, 0)], (2.4 * 2.4 + 4.4 * 4.4 + 10.0 * 10.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Grid3D(0, 3, 3).count, 0)
        XCTAssertEqual(DistanceTransform.squaredDistances(toSites: [], grid: Grid3D(0, 3, 3), spacing: [1, 1, 1]), [])
    }
}
