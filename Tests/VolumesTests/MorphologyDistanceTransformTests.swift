import XCTest
import Volumes

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
