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
