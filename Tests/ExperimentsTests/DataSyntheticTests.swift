import Foundation
import TestSupport
import XCTest
import Experiments
import Volumes

/// The built-in synthetic data: deterministic, labels where the intensities say, styles as documented.
final class DataSyntheticTests: XCTestCase {
    private func generate(_ spec: SyntheticSpec, _ index: Int) throws -> SyntheticCase {
        try SyntheticData.generate(spec, index: index)
    }

    /// Mean intensity inside the label and in the rest of the non-zero image.
    private func means(_ c: SyntheticCase) -> (inside: Float, outside: Float, labelled: Int) {
        var inside = 0.0, outside = 0.0, nIn = 0, nOut = 0
        for (v, l) in zip(c.image.voxels, c.label.voxels) {
            if l > 0 { inside += Double(v); nIn += 1 } else if v > 0 { outside += Double(v); nOut += 1 }
        }
        return (Float(inside / Double(max(nIn, 1))), Float(outside / Double(max(nOut, 1))), nIn)
    }

    func testDeterministicPerSeed() throws {
        for spec in [SyntheticSpec(style: .harp), SyntheticSpec(kind: .brats)] {
            let a = try generate(spec, 3), b = try generate(spec, 3)
            XCTAssertEqual(a.image.voxels, b.image.voxels)
            XCTAssertEqual(a.label.voxels, b.label.voxels)
            var other = spec
            other.seed = 1
            XCTAssertNotEqual(try generate(other, 3).image.voxels, a.image.voxels)
            XCTAssertNotEqual(try generate(spec, 4).label.voxels, a.label.voxels, "subjects differ")
        }
    }

    func testStylesHaveTheirDocumentedGrids() throws {
        let expected: [(HippocampusStyle, [Int], [Double], String, Int)] = [
            (.harp, [64, 64, 48], [1, 1, 1], "RAS", 135),
            (.lpba40, [72, 40, 60], [0.86, 1.5, 0.86], "LAS", 40),
            (.hfh, [64, 64, 56], [0.8, 0.8, 0.8], "RAS", 25),
        ]
        for (style, size, spacing, orientation, subjects) in expected {
            let spec = SyntheticSpec(style: style)
            XCTAssertEqual(spec.subjectCount, subjects)
            let c = try generate(spec, 0)
            XCTAssertEqual(c.id, "\(style.rawValue)_000")
            XCTAssertEqual(c.image.shape, size)
            XCTAssertEqual(c.image.spacing, spacing)
            XCTAssertEqual(c.image.orientation, orientation)
            XCTAssertEqual(c.label.shape, size)
            XCTAssertEqual(Set(c.label.voxels), [0, 1])
            XCTAssertTrue(c.image.voxels.allSatisfy { $0.isFinite && $0 >= 0 })
        }
        let brats = try generate(SyntheticSpec(kind: .brats), 0)
        XCTAssertEqual(brats.image.shape, [64, 64, 56])
        XCTAssertEqual(brats.image.spacing, [2.5, 2.5, 2.5])
        XCTAssertEqual(SyntheticSpec(kind: .brats).subjectCount, 40)
    }

    /// The hippocampus is grey-matter dark in bright white matter: the labelled voxels are darker than
    /// the rest of the brain and close to the style's hippocampus intensity; the tumour is brighter.
    func testLabelsMatchTheImages() throws {
        for style in HippocampusStyle.allCases {
            let p = style.parameters
            for index in 0..<3 {
                let c = try generate(SyntheticSpec(style: style), index)
                let m = means(c)
                XCTAssertLessThan(m.inside, m.outside - Float(p.whiteMatter - p.hippocampus) * 0.3, "\(c.id) \(m)")
                XCTAssertEqual(Double(m.inside), p.hippocampus, accuracy: p.hippocampus * 0.15, "\(c.id) \(m)")
                let volume = Double(m.labelled) * c.image.voxelVolumeMM3
                XCTAssertTrue((700...3500).contains(volume), "\(c.id): \(volume) mm³ of hippocampus")
            }
        }
        for index in 0..<3 {
            let c = try generate(SyntheticSpec(kind: .brats), index)
            let m = means(c)
            XCTAssertGreaterThan(m.inside, m.outside * 1.4, "\(c.id) \(m)")
            XCTAssertGreaterThan(m.labelled, 50, c.id)
        }
    }

    func testSidesAndVolumeFactors() throws {
        let spec = SyntheticSpec(style: .harp, splitSides: true)
        let c = try generate(spec, 5)
        XCTAssertEqual(Set(c.label.voxels), [0, 1, 2])
        // Left (1) lies at negative world x, right (2) at positive.
        var xs: [Float: [Double]] = [:]
        for n in c.label.voxels.indices where c.label.voxels[n] > 0 {
            let ijk = c.label.coordinates(ofIndex: n)
            xs[c.label.voxels[n], default: []].append(c.label.affine.apply(Double(ijk[0]), Double(ijk[1]), Double(ijk[2])).x)
        }
        XCTAssertLessThan(xs[1]!.max()!, 0)
        XCTAssertGreaterThan(xs[2]!.min()!, 0)

        var subject = SyntheticHippocampus.subject(style: .harp, seed: 0, index: 5)
        let nominal = try SyntheticHippocampus.render(subject, style: .harp, id: "n", splitSides: true)
        subject.leftVolumeFactor = 0.7
        let atrophied = try SyntheticHippocampus.render(subject, style: .harp, id: "a", splitSides: true)
        XCTAssertEqual(atrophied.labelVolumeMM3(1) / nominal.labelVolumeMM3(1), 0.7, accuracy: 0.06)
        XCTAssertEqual(atrophied.labelVolumeMM3(2), nominal.labelVolumeMM3(2))
        XCTAssertEqual(nominal.labelVolumeMM3(), nominal.labelVolumeMM3(1) + nominal.labelVolumeMM3(2))
        XCTAssertEqual(try SyntheticHippocampus.generate(style: .harp, seed: 0, index: 5, splitSides: true).label.voxels,
                       nominal.label.voxels)
    }

    /// Generating each built-in set (timed; the full sets with HIPPOPEFT_TIMINGS=1, else 10 subjects each).
    func testGenerationTimings() throws {
        let full = ProcessInfo.processInfo.environment["HIPPOPEFT_TIMINGS"] == "1"
        for var spec in [SyntheticSpec(style: .harp), SyntheticSpec(style: .lpba40), SyntheticSpec(style: .hfh),
                         SyntheticSpec(kind: .brats)] {
            if !full { spec.subjects = 10 }
            let dataset = try Dataset(spec: DatasetSpec(name: "t", layout: .synthetic, synthetic: spec))
            let (start, cpu) = (Date(), clock())
            let prepared = try dataset.preparedAll()
            let seconds = Date().timeIntervalSince(start)
            let cpuSeconds = Double(clock() - cpu) / Double(CLOCKS_PER_SEC)
            let name = spec.kind == .brats ? "brats" : spec.style.rawValue
            print("synthetic \(name): \(prepared.count) subjects generated and prepared in \(String(format: "%.2f", seconds)) s wall, "
                  + "\(String(format: "%.2f", cpuSeconds)) s CPU")
            XCTAssertEqual(prepared.count, spec.subjectCount)
        }
    }

    func testWriteAsMSDFolderRoundTrips() throws {
        let folder = try TemporaryFolder()
        let spec = SyntheticSpec(style: .hfh, subjects: 3)
        XCTAssertEqual(try SyntheticData.writeMSDLayout(spec, to: folder.url), 3)
        let scan = try DatasetScanner.scan(DatasetSpec(name: "w", layout: .msd, root: folder.path))
        XCTAssertEqual(scan.caseIDs, ["hfh_000", "hfh_001", "hfh_002"])
        let read = try NIfTI.read(folder.file("labelsTr/hfh_001.nii.gz"))
        XCTAssertEqual(read.voxels, try generate(spec, 1).label.voxels)
    }
}
