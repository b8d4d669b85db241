import Diagnosis
import Foundation
import XCTest
import Experiments
import Volumes

/// Hippocampal volumetry: left/right by world x (NIfTI RAS+: +x is the subject's Right), by the two
/// largest components, by labels; in RAS and in other voxel orders, also through a NIfTI file.
final class DiagnosisVolumetryTests: XCTestCase {
    let shape = [20, 8, 6]
    let spacing = [0.8, 1.2, 1.5]
    var voxelVolume: Double { spacing.reduce(1, *) }

    /// Two boxes: 24 voxels at low i (i 2..<6), 60 voxels at high i (i 12..<17), and optionally a 2-voxel
    /// speck at i 9 (near the centre, low-i side).
    func labelVoxels(speck: Bool = false, values: (Float, Float) = (1, 1)) -> [Float] {
        var voxels = [Float](repeating: 0, count: shape.reduce(1, *))
        func set(_ i: Range<Int>, _ j: Range<Int>, _ k: Range<Int>, _ value: Float) {
            for kk in k { for jj in j { for ii in i { voxels[ii + shape[0] * (jj + shape[1] * kk)] = value } } }
        }
        set(2..<6, 1..<4, 1..<3, values.0)
        set(12..<17, 2..<6, 1..<4, values.1)
        if speck { set(8..<9, 6..<8, 5..<6, values.0) }
        return voxels
    }

    /// An affine centred on the world origin whose i axis points to +x (`flipI` false: RAS-like) or −x.
    func affine(flipI: Bool, flipJ: Bool = false) -> Affine {
        let si = flipI ? -spacing[0] : spacing[0], sj = flipJ ? -spacing[1] : spacing[1]
        return Affine(rows: [
            [si, 0, 0, -si * Double(shape[0] - 1) / 2],
            [0, sj, 0, -sj * Double(shape[1] - 1) / 2],
            [0, 0, spacing[2], -spacing[2] * Double(shape[2] - 1) / 2],
        ])!
    }

    func volume(flipI: Bool, flipJ: Bool = false, speck: Bool = false, values: (Float, Float) = (1, 1)) throws -> Volume {
        try Volume(shape: shape, voxels: labelVoxels(speck: speck, values: values), spacing: spacing,
                   affine: affine(flipI: flipI, flipJ: flipJ))
    }

    func testHemisphereInRASLow_iIsLeft() throws {
        let ras = try volume(flipI: false)
        XCTAssertEqual(ras.orientation, "RAS")
        // RAS: i runs towards the subject's Right, so the low-i box (world x < 0) is the left hippocampus.
        let v = try Volumetry.measure(ras, split: .worldMidline(.fieldOfViewCentre))
        XCTAssertEqual(v.left, 24 * voxelVolume, accuracy: 1e-9)
        XCTAssertEqual(v.right, 60 * voxelVolume, accuracy: 1e-9)
        XCTAssertEqual(v.unassigned, 0)
        // The centroid midline and x = 0 (the centre here) agree.
        XCTAssertEqual(try Volumetry.measure(ras, split: .worldMidline(.x(0))), v)
        XCTAssertEqual(try Volumetry.measure(ras, split: .worldMidline(.foregroundCentroid)), v)
        // A midline right of everything puts all on the left.
        let shifted = try Volumetry.measure(ras, split: .worldMidline(.x(100)))
        XCTAssertEqual(shifted.left, 84 * voxelVolume, accuracy: 1e-9)
        XCTAssertEqual(shifted.right, 0)
    }

    func testHemisphereInLPSAndLASThroughNIfTIFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diagnosis-volumetry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (flipJ, code) in [(true, "LPS"), (false, "LAS")] {
            let url = folder.appendingPathComponent("\(code).nii.gz")
            try NIfTI.write(try volume(flipI: true, flipJ: flipJ), to: url, datatype: .uint8)
            let read = try NIfTI.read(url)
            XCTAssertEqual(read.orientation, code)
            // Same voxels, i now runs towards the Left: the low-i box is the RIGHT hippocampus.
            for split in [HemisphereSplit.worldMidline(.fieldOfViewCentre), .largestComponents(connectivity: .six),
                          .largestComponents(connectivity: .twentySix)] {
                let v = try Volumetry.measure(read, split: split)
                XCTAssertEqual(v.left, 60 * voxelVolume, accuracy: 1e-4, "\(code) \(split)")
                XCTAssertEqual(v.right, 24 * voxelVolume, accuracy: 1e-4, "\(code) \(split)")
            }
        }
    }

    func testTwoLargestComponentsLeaveSmallOnesUnassigned() throws {
        for flip in [false, true] {
            let v = try Volumetry.measure(try volume(flipI: flip, speck: true), split: .largestComponents(connectivity: .six))
            XCTAssertEqual(v.left, (flip ? 60 : 24) * voxelVolume, accuracy: 1e-9)
            XCTAssertEqual(v.right, (flip ? 24 : 60) * voxelVolume, accuracy: 1e-9)
            XCTAssertEqual(v.unassigned, 2 * voxelVolume, accuracy: 1e-9)
            XCTAssertNotNil(v.note)
            // By hemisphere the speck (low-i side) counts with the low-i box.
            let h = try Volumetry.measure(try volume(flipI: flip, speck: true), split: .worldMidline(.fieldOfViewCentre))
            XCTAssertEqual(flip ? h.right : h.left, 26 * voxelVolume, accuracy: 1e-9)
        }
        // One component: it goes to the side of its centroid, with a note.
        var one = try volume(flipI: false)
        for n in one.voxels.indices where one.coordinates(ofIndex: n)[0] >= 10 { one.voxels[n] = 0 }
        let single = try Volumetry.measure(one, split: .largestComponents(connectivity: .six))
        XCTAssertEqual(single.left, 24 * voxelVolume, accuracy: 1e-9)
        XCTAssertEqual(single.right, 0)
        XCTAssertTrue(single.note?.contains("one component") ?? false)
        let empty = try Volumetry.measure(try Volume(shape: shape, voxels: [Float](repeating: 0, count: 960), spacing: spacing),
                                          split: .largestComponents(connectivity: .six))
        XCTAssertEqual(empty.total, 0)
    }

    func testLabelsSplit() throws {
        let v = try Volumetry.measure(try volume(flipI: true, speck: true, values: (1, 2)), split: .labels(left: 2, right: 1))
        XCTAssertEqual(v.left, 60 * voxelVolume, accuracy: 1e-9)
        XCTAssertEqual(v.right, 26 * voxelVolume, accuracy: 1e-9)
        let other = try Volumetry.measure(try volume(flipI: true, values: (1, 3)), split: .labels(left: 1, right: 2))
        XCTAssertEqual(other.unassigned, 60 * voxelVolume, accuracy: 1e-9)
    }

    func testMidlineVoxelCountsHalfToEachSide() throws {
        // 3 voxels along i, centred: the middle voxel sits on x = 0.
        let line = try Volume(shape: [3, 1, 1], voxels: [1, 1, 1], spacing: [1, 1, 1],
                              affine: Affine(rows: [[1, 0, 0, -1], [0, 1, 0, 0], [0, 0, 1, 0]])!)
        XCTAssertEqual(try Volumetry.measure(line), HippocampalVolumes(left: 1.5, right: 1.5))
    }

    /// The synthetic phantoms: the label-1 (left) and label-2 (right) structures are found again by
    /// hemisphere and by components, in RAS (harp) and LAS (lpba40) files; volumes follow the factors.
    func testSyntheticPhantomsBothOrientations() throws {
        let subjects = SyntheticCohort.adniLike.scaled(to: 8).generate(seed: 3)
        for style in [HippocampusStyle.harp, .lpba40] {
            let phantoms = CohortPhantoms(style: style, cohortSeed: 3)
            for (index, subject) in subjects.enumerated() {
                let phantom = try phantoms.render(subject, index: index)
                XCTAssertEqual(phantom.label.orientation, style == .harp ? "RAS" : "LAS")
                let byLabel = try Volumetry.measure(phantom.label, split: .labels(left: 1, right: 2))
                XCTAssertEqual(byLabel.left, phantom.labelVolumeMM3(1), accuracy: 1e-6)
                XCTAssertGreaterThan(byLabel.left, 200)
                XCTAssertGreaterThan(byLabel.right, 200)
                for split in [HemisphereSplit.worldMidline(.fieldOfViewCentre), .worldMidline(.foregroundCentroid),
                              .largestComponents(connectivity: .six)] {
                    let measured = try Volumetry.measure(phantom.label, split: split)
                    XCTAssertEqual(measured.left, byLabel.left, accuracy: 1e-6, "\(style) \(subject.id) \(split)")
                    XCTAssertEqual(measured.right, byLabel.right, accuracy: 1e-6, "\(style) \(subject.id) \(split)")
                }
            }
        }
        // Volume ∝ factor: the same anatomy at 76 % of the volume.
        var subject = subjects[0]
        let phantoms = CohortPhantoms(style: .harp, cohortSeed: 3)
        let full = try Volumetry.measure(try phantoms.render(subject, index: 0).label, split: .labels(left: 1, right: 2))
        subject.leftHippocampus *= 0.76
        subject.rightHippocampus *= 0.76
        let atrophied = try Volumetry.measure(try phantoms.render(subject, index: 0).label, split: .labels(left: 1, right: 2))
        print(String(format: "phantom volume at 76 %% of the factor: left %.3f, right %.3f of the original", atrophied.left / full.left,
                     atrophied.right / full.right))
        XCTAssertEqual(atrophied.left / full.left, 0.76, accuracy: 0.04)
        XCTAssertEqual(atrophied.right / full.right, 0.76, accuracy: 0.04)
    }

    func testVolumeAgreement() {
        let reference = [HippocampalVolumes(left: 100, right: 200), HippocampalVolumes(left: 150, right: 250)]
        let predicted = [HippocampalVolumes(left: 110, right: 180), HippocampalVolumes(left: 165, right: 225)]
        let agreement = VolumeAgreement(reference: reference, predicted: predicted)
        XCTAssertEqual(agreement.meanAbsolutePercentError, 10, accuracy: 1e-9)
        XCTAssertEqual(agreement.meanPercentBias, 0, accuracy: 1e-9)
        XCTAssertEqual(agreement.leftCorrelation, 1, accuracy: 1e-12)
        XCTAssertEqual(pearson([1, 2, 3], [3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertTrue(pearson([1, 1], [2, 3]).isNaN)
    }
}
