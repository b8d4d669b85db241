import XCTest
import Volumes

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
