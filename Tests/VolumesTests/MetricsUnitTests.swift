import Foundation
import XCTest
import Volumes

/// Hand-computed answers on tiny masks.
final class MetricsUnitTests: XCTestCase {
    func single(_ grid: Grid3D, _ i: Int, _ j: Int, _ k: Int) -> [Bool] {
        var m = MaskFactory.empty(grid)
        m[grid.index(i, j, k)] = true
        return m
    }

    func testSingleVoxelsAtAnAnisotropicOffset() {
        let grid = Grid3D(12, 14, 10)
        let spacing = [0.8, 1.1, 2.0]
        let reference = single(grid, 3, 8, 4)
        let prediction = single(grid, 5, 7, 7)  // offset (2, −1, 3)
        let m = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: spacing)
        let d = ((2 * 0.8) * (2 * 0.8) + 1.1 * 1.1 + 6.0 * 6.0).squareRoot()
        XCTAssertEqual(m.dice, 0)
        for value in [m.hdMax, m.hd95, m.hd95Medpy, m.assd] { XCTAssertEqual(value!, d, accuracy: 1e-12) }
        // Nearest corners are (1, 0, 2) voxels apart: 4.08 mm > 1 mm.
        XCTAssertEqual(m.nsd1mm, 0)
        XCTAssertEqual(m.volumeRefMM3, 0.8 * 1.1 * 2.0, accuracy: 1e-15)
        XCTAssertEqual(m.volumePredMM3, m.volumeRefMM3)
        XCTAssertTrue(m.notes.isEmpty)
    }

    func testAdjacentVoxelsAlongKShareHalfTheirSurfels() {
        // DEFINITIONS.md: single_voxel_adjacent_k_mr gives surfel NSD 0.5 (voxel-count NSD would be 0).
        let grid = Grid3D(6, 6, 6)
        let spacing = [0.9375, 0.9375, 1.5]
        let m = evaluateBinarySegmentation(prediction: single(grid, 2, 3, 3), reference: single(grid, 2, 3, 2),
                                           grid: grid, spacing: spacing)
        XCTAssertEqual(m.nsd1mm!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.hdMax!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(m.hd95!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(m.assd!, 1.5, accuracy: 1e-12)
        // Same voxel: everything perfect.
        let same = evaluateBinarySegmentation(prediction: single(grid, 0, 0, 0), reference: single(grid, 0, 0, 0),
                                              grid: grid, spacing: spacing)
        XCTAssertEqual(same.dice, 1)
        XCTAssertEqual(same.hdMax, 0)
        XCTAssertEqual(same.nsd1mm, 1)
    }

    func testCubeShiftedByOneVoxel() {
        // 4³ cube, prediction shifted +1 along i, spacing (2, 1, 1). Each direction has 56 ∂6 voxels:
        // 36 at 0 mm, 4 at 1 mm (the far face's inner voxels reach the side faces), 16 at 2 mm.
        let grid = Grid3D(10, 10, 10)
        let spacing = [2.0, 1.0, 1.0]
        let reference = MaskFactory.box(grid, 2..<6, 2..<6, 2..<6)
        let prediction = MaskFactory.shifted(reference, grid: grid, by: (1, 0, 0))
        let m = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: spacing)
        XCTAssertEqual(m.dice, 0.75, accuracy: 1e-15)
        XCTAssertEqual(m.hdMax!, 2, accuracy: 1e-12)
        XCTAssertEqual(m.hd95!, 2, accuracy: 1e-12)
        XCTAssertEqual(m.hd95Medpy!, 2, accuracy: 1e-12)
        XCTAssertEqual(m.assd!, 72.0 / 112.0, accuracy: 1e-12)
        let (pg, gp) = MaskDistances.surfaceDistances(prediction: prediction, reference: reference, grid: grid, spacing: spacing)!
        XCTAssertEqual(pg.sorted(), [Double](repeating: 0, count: 36) + [Double](repeating: 1, count: 4) + [Double](repeating: 2, count: 16))
        XCTAssertEqual(gp.sorted(), pg.sorted())
        XCTAssertEqual(m.volumeRefMM3, 128)
        // Isotropic: every corner surfel is within 1 mm of the other surface.
        let iso = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: [1, 1, 1])
        XCTAssertEqual(iso.nsd1mm!, 1, accuracy: 1e-12)
    }

    func testSlabsTouchingTheImageFaces() {
        // Reference: layers i = 0, 1 of a 4×3×3 image; prediction: layers 0, 1, 2. The faces count as
        // background, so all 18 reference voxels are ∂6 and 26 of the 27 prediction voxels are.
        let grid = Grid3D(4, 3, 3)
        let reference = MaskFactory.box(grid, 0..<2, 0..<3, 0..<3)
        let prediction = MaskFactory.box(grid, 0..<3, 0..<3, 0..<3)
        let m = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: [1, 1, 1.2])
        XCTAssertEqual(m.hdMax!, 1, accuracy: 1e-12)
        // pred→ref: 17 × 0, 9 × 1 → q95 = 1; ref→pred: 17 × 0, 1 × 1 → q95 = 0.15 (linear); MONAI takes the max.
        XCTAssertEqual(m.hd95!, 1, accuracy: 1e-12)
        XCTAssertEqual(m.hd95Medpy!, 1, accuracy: 1e-12)
        XCTAssertEqual(m.assd!, 10.0 / 44.0, accuracy: 1e-12)
        XCTAssertEqual(m.dice, 36.0 / 45.0, accuracy: 1e-15)
    }

    func testDirectedAndPooledPercentilesDiffer() {
        // Reference: 1×1×8 line; prediction: the same line plus one voxel 5 mm away beside its end.
        let grid = Grid3D(8, 1, 8)
        let reference = MaskFactory.box(grid, 0..<1, 0..<1, 0..<8)
        var prediction = reference
        prediction[grid.index(5, 0, 7)] = true
        let m = evaluateBinarySegmentation(prediction: prediction, reference: reference, grid: grid, spacing: [1, 1, 1])
        // pred→ref: 8 × 0 and 5 → q95 over 9 values: h = 7.6 → 0.6·5 = 3; ref→pred all 0.
        XCTAssertEqual(m.hd95!, 3, accuracy: 1e-12)
        // pooled: 16 zeros and one 5: h = 15.2 → 0.2·5 = 1.
        XCTAssertEqual(m.hd95Medpy!, 1, accuracy: 1e-12)
        XCTAssertEqual(m.hdMax!, 5, accuracy: 1e-12)
        XCTAssertEqual(m.assd!, 5.0 / 17.0, accuracy: 1e-12)
    }

    func testHollowShellSetHausdorffDiffersFromSurfaceHausdorff() {
        // Reference: the 98-voxel shell of a 5³ cube; prediction: the filled cube. The surfaces coincide
        // (0 mm) but the prediction's centre voxel is 2 mm from every reference voxel.
        let grid = Grid3D(7, 7, 7)
        let filled = MaskFactory.box(grid, 1..<6, 1..<6, 1..<6)
        let core = MaskFactory.box(grid, 2..<5, 2..<5, 2..<5)
        let shell = zip(filled, core).map { $0 && !$1 }
        let m = evaluateBinarySegmentation(prediction: filled, reference: shell, grid: grid, spacing: [1, 1, 1])
        XCTAssertEqual(m.hdMax!, 2, accuracy: 1e-12)
        XCTAssertEqual(m.hd95, 0)
        XCTAssertEqual(m.hd95Medpy, 0)
        XCTAssertEqual(m.assd, 0)
        XCTAssertEqual(m.dice, 196.0 / 223.0, accuracy: 1e-15)
        let directed = MaskDistances.setHausdorff(prediction: filled, reference: shell, grid: grid, spacing: [1, 1, 1])!
        XCTAssertEqual(directed.predictionToReference, 2)
        XCTAssertEqual(directed.referenceToPrediction, 0)
    }

    func testEmptyMasksGiveNilWithReasonNeverZero() {
        let grid = Grid3D(6, 5, 4)
        let spacing = [1.0, 1.0, 1.5]
        let blob = MaskFactory.box(grid, 1..<4, 1..<3, 1..<3)
        let empty = MaskFactory.empty(grid)
        let distances: [MetricName] = [.hdMax, .hd95, .hd95Medpy, .assd]

        let predEmpty = evaluateBinarySegmentation(prediction: empty, reference: blob, grid: grid, spacing: spacing)
        XCTAssertEqual(predEmpty.dice, 0)
        XCTAssertEqual(predEmpty.nsd1mm, 0)
        XCTAssertEqual(predEmpty.volumePredMM3, 0)
        XCTAssertEqual(predEmpty.volumeRefMM3, 12 * 1.5)
        for name in distances {
            XCTAssertNil(predEmpty[name])
            XCTAssertEqual(predEmpty.notes[name], "prediction is empty")
        }

        let refEmpty = evaluateBinarySegmentation(prediction: blob, reference: empty, grid: grid, spacing: spacing)
        XCTAssertEqual(refEmpty.dice, 0)
        XCTAssertEqual(refEmpty.nsd1mm, 0)
        for name in distances { XCTAssertEqual(refEmpty.notes[name], "reference is empty") }

        let both = evaluateBinarySegmentation(prediction: empty, reference: empty, grid: grid, spacing: spacing)
        XCTAssertEqual(both.dice, 1)
        XCTAssertNil(both.nsd1mm)
        XCTAssertNotNil(both.notes[.nsd1mm])
        for name in distances { XCTAssertEqual(both.notes[name], "prediction and reference are both empty") }
        XCTAssertEqual(both.volumeRefMM3, 0)
        XCTAssertNil(MaskDistances.surfaceDistances(prediction: empty, reference: blob, grid: grid, spacing: spacing))
        XCTAssertNil(MaskDistances.surfels(prediction: empty, reference: empty, grid: grid, spacing: spacing))
        let oneSided = MaskDistances.surfels(prediction: empty, reference: blob, grid: grid, spacing: spacing)!
        XCTAssertTrue(oneSided.predictionToReference.isEmpty)
        XCTAssertTrue(oneSided.referenceToPrediction.allSatisfy { $0 == .infinity })
    }

    func testLinearPercentileIsNumpys() {
        XCTAssertEqual(MaskDistances.linearPercentile(sorted: [0, 1, 2, 3, 4], 0.95)!, 3.8, accuracy: 1e-15)
        XCTAssertEqual(MaskDistances.linearPercentile(sorted: [7], 0.95), 7)
        XCTAssertEqual(MaskDistances.linearPercentile(sorted: [1, 2], 0.5), 1.5)
        XCTAssertEqual(MaskDistances.linearPercentile(sorted: [1, 2, 10], 1), 10)
        XCTAssertNil(MaskDistances.linearPercentile(sorted: [], 0.5))
    }

    func testSurfelAreaTable() {
        // One voxel: eight corners, one bit each, each a triangle with normal (⅛, ⅛, ⅛) at unit spacing.
        let unit = SurfelAreaTable(spacing: [1, 1, 1])
        XCTAssertEqual(unit.areas[0], 0)
        XCTAssertEqual(unit.areas[255], 0)
        for bit in 0..<8 { XCTAssertEqual(unit.areas[1 << bit], 3.0.squareRoot() / 8, accuracy: 1e-15) }
        // A flat face (four voxels on one side) has area 1 at unit spacing, s_j·s_k for a face ⟂ i.
        let aniso = SurfelAreaTable(spacing: [0.8, 1.1, 2.0])
        XCTAssertEqual(unit.areas[0b0000_1111], 1, accuracy: 1e-15)
        XCTAssertEqual(aniso.areas[0b0000_1111], 1.1 * 2.0, accuracy: 1e-12)
        XCTAssertEqual(aniso.areas[0b0011_0011], 0.8 * 2.0, accuracy: 1e-12)
        XCTAssertEqual(aniso.areas[0b0101_0101], 0.8 * 1.1, accuracy: 1e-12)
        // Complementary configurations bound the same surface.
        for code in 0..<256 { XCTAssertEqual(aniso.areas[code], aniso.areas[255 - code], accuracy: 1e-12) }
        XCTAssertEqual(SurfelAreaTable.normalEighths.count, 3 * SurfelAreaTable.normalCounts.reduce(0) { $0 + Int($1) })

        // The surfel area of a large sphere approaches 4πr² (marching cubes is a few % off).
        let grid = Grid3D(44, 44, 44)
        let sphere = MaskFactory.ellipsoid(grid, spacing: [1, 1, 1], centre: [21.5, 21.5, 21.5], radii: [18, 18, 18])
        let s = MaskDistances.surfels(prediction: sphere, reference: sphere, grid: grid, spacing: [1, 1, 1])!
        let area = s.referenceAreas.reduce(0, +)
        XCTAssertEqual(area / (4 * Double.pi * 18 * 18), 1, accuracy: 0.1)
    }

    func testMultiLabelMapsAndAll() throws {
        let grid = Grid3D(12, 10, 8)
        let spacing = [1.0, 1.0, 1.2]
        var reference = [Int32](repeating: 0, count: grid.count)
        var prediction = reference
        let left = MaskFactory.box(grid, 1..<4, 2..<6, 2..<5)
        let right = MaskFactory.box(grid, 7..<10, 2..<6, 2..<5)
        for v in 0..<grid.count {
            if left[v] { reference[v] = 1; prediction[v] = 1 }
            if right[v] { reference[v] = 2 }
        }
        prediction[grid.index(11, 9, 7)] = 3  // a label only the prediction has
        let m = try evaluateSegmentation(prediction: prediction, reference: reference, shape: grid.shape, spacing: spacing)
        XCTAssertEqual(m.keys, ["1", "2", "3", "all"])
        XCTAssertEqual(m.labels[1]!.dice, 1)
        XCTAssertEqual(m.labels[1]!.hdMax, 0)
        XCTAssertEqual(m.labels[2]!.dice, 0)
        XCTAssertEqual(m.labels[2]!.notes[.hdMax], "prediction is empty")
        XCTAssertEqual(m.labels[2]!.nsd1mm, 0)
        XCTAssertEqual(m.labels[3]!.notes[.hd95], "reference is empty")
        // "all" = any non-zero label, against brute force.
        let all = BruteForce.metrics(prediction: prediction.map { $0 != 0 }, reference: reference.map { $0 != 0 },
                                     grid: grid, spacing: spacing)
        XCTAssertTrue(close(m.all.hdMax, all.hdMax))
        XCTAssertTrue(close(m.all.hd95, all.hd95))
        XCTAssertTrue(close(m.all.nsd1mm, all.nsd))
        XCTAssertEqual(m.all.dice, all.dice, accuracy: 1e-15)

        // A single-label pair: "all" equals label 1.
        let binary = try evaluateSegmentation(prediction: left.map { $0 ? UInt8(1) : 0 }, reference: right.map { $0 ? UInt8(1) : 0 },
                                              shape: grid.shape, spacing: spacing)
        XCTAssertEqual(binary.keys, ["1", "all"])
        XCTAssertEqual(binary.all, binary.labels[1])

        // Nothing anywhere: only "all", with dice 1 and undefined distances.
        let none = try evaluateSegmentation(prediction: [UInt8](repeating: 0, count: grid.count),
                                            reference: [UInt8](repeating: 0, count: grid.count), shape: grid.shape, spacing: spacing)
        XCTAssertEqual(none.keys, ["all"])
        XCTAssertEqual(none.all.dice, 1)
        XCTAssertNil(none.all.hdMax)
    }

    func testInputErrorsAreTyped() {
        let grid = Grid3D(3, 3, 3)
        let ok = [Float](repeating: 0, count: grid.count)
        var fractional = ok
        fractional[grid.index(1, 2, 0)] = 0.5
        XCTAssertThrowsError(try evaluateSegmentation(prediction: fractional, reference: ok, shape: grid.shape, spacing: [1, 1, 1])) { error in
            XCTAssertEqual(error as? MetricsError, .nonIntegerLabel(what: "prediction", value: 0.5, voxel: [1, 2, 0]))
            XCTAssertTrue("\(error)".contains("threshold"))
        }
        XCTAssertThrowsError(try evaluateSegmentation(prediction: ok, reference: ok, shape: [3, 3], spacing: [1, 1, 1]))
        XCTAssertThrowsError(try evaluateSegmentation(prediction: ok, reference: ok, shape: [3, 3, 4], spacing: [1, 1, 1]))
        XCTAssertThrowsError(try evaluateSegmentation(prediction: ok, reference: ok, shape: grid.shape, spacing: [1, 0, 1]))
        var labels = ok
        labels[0] = 2
        XCTAssertNoThrow(try evaluateSegmentation(prediction: labels, reference: ok, shape: grid.shape, spacing: [1, 1, 1]))
    }
}

final class MetricsVolumeTests: XCTestCase {
    func testVolumeEntryPointUsesHeaderSpacingAndChecksTheGrid() throws {
        let grid = Grid3D(10, 9, 8)
        let spacing = [0.9375, 0.9375, 1.5]
        let ref = MaskFactory.box(grid, 2..<6, 2..<6, 2..<5)
        let pred = MaskFactory.shifted(ref, grid: grid, by: (1, 0, 0))
        let refVolume = try Volume(shape: grid.shape, voxels: ref.map { $0 ? 2 : 0 }, spacing: spacing)
        let predVolume = try Volume(shape: grid.shape, voxels: pred.map { $0 ? 2 : 0 }, spacing: spacing)
        let m = try evaluateSegmentation(prediction: predVolume, reference: refVolume)
        XCTAssertEqual(m.keys, ["2", "all"])
        XCTAssertEqual(m.all, evaluateBinarySegmentation(prediction: pred, reference: ref, grid: grid, spacing: spacing))

        let otherSpacing = try Volume(shape: grid.shape, voxels: predVolume.voxels, spacing: [1, 1, 1.5])
        XCTAssertThrowsError(try evaluateSegmentation(prediction: otherSpacing, reference: refVolume)) { error in
            guard case .gridMismatch = error as? MetricsError else { return XCTFail("\(error)") }
        }
        let otherShape = try Volume(shape: [10, 9, 7], voxels: [Float](repeating: 0, count: 630), spacing: spacing)
        XCTAssertThrowsError(try evaluateSegmentation(prediction: otherShape, reference: refVolume))
        var shiftedAffine = Affine.diagonal(spacing)
        shiftedAffine[0, 3] = 5
        let moved = try Volume(shape: grid.shape, voxels: predVolume.voxels, spacing: spacing, affine: shiftedAffine)
        XCTAssertThrowsError(try evaluateSegmentation(prediction: moved, reference: refVolume))
        var fractional = predVolume
        fractional.voxels[3] = 0.25
        XCTAssertThrowsError(try evaluateSegmentation(prediction: fractional, reference: refVolume))
    }

    func testVolumePostProcessing() throws {
        let grid = Grid3D(12, 10, 10)
        var labels = [Float](repeating: 0, count: grid.count)
        for (v, inside) in MaskFactory.box(grid, 0..<10, 0..<10, 0..<10).enumerated() where inside { labels[v] = 1 }
        labels[grid.index(11, 9, 9)] = 1  // a stray voxel of label 1
        labels[grid.index(11, 0, 0)] = 2; labels[grid.index(11, 1, 0)] = 2  // two voxels of label 2
        let volume = try Volume(shape: grid.shape, voxels: labels, spacing: [1, 1, 1])
        let cleaned = try volume.removingSmallComponents()  // 1000 voxels, 6-connectivity
        XCTAssertEqual(cleaned.voxels.filter { $0 == 1 }.count, 1000)
        XCTAssertEqual(cleaned.voxels.filter { $0 == 2 }.count, 0)
        XCTAssertEqual(cleaned.spacing, volume.spacing)
        let largest = try volume.keepingLargestComponents()
        XCTAssertEqual(largest.voxels.filter { $0 == 1 }.count, 1000)
        XCTAssertEqual(largest.voxels.filter { $0 == 2 }.count, 2)
    }
}

final class MetricsJSONTests: XCTestCase {
    func sample() throws -> SegmentationMetrics {
        let grid = Grid3D(8, 8, 8)
        var reference = [Int32](repeating: 0, count: grid.count)
        var prediction = reference
        let a = MaskFactory.box(grid, 1..<4, 1..<4, 1..<4)
        let b = MaskFactory.box(grid, 5..<7, 5..<7, 5..<7)
        for v in 0..<grid.count {
            if a[v] { reference[v] = 1 }
            if b[v] { reference[v] = 2 }
        }
        let shiftedA = MaskFactory.shifted(a, grid: grid, by: (0, 1, 0))
        for v in 0..<grid.count where shiftedA[v] { prediction[v] = 1 }
        return try evaluateSegmentation(prediction: prediction, reference: reference, shape: grid.shape, spacing: [1, 1, 1.5])
    }

    func testShapeNullsAndNotes() throws {
        let metrics = try sample()
        let text = metrics.jsonString()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(Array(object.keys), ["labels"])
        let labels = try XCTUnwrap(object["labels"] as? [String: Any])
        XCTAssertEqual(Set(labels.keys), ["1", "2", "all"])
        let two = try XCTUnwrap(labels["2"] as? [String: Any])
        XCTAssertTrue(two["hd95"] is NSNull)
        XCTAssertEqual(two["hd95_note"] as? String, "prediction is empty")
        XCTAssertEqual(two["nsd_1mm"] as? Double, 0)
        XCTAssertNil(two["nsd_1mm_note"])
        let one = try XCTUnwrap(labels["1"] as? [String: Any])
        for name in MetricName.allCases { XCTAssertTrue(one[name.rawValue] is NSNumber, name.rawValue) }
        XCTAssertEqual(one.count, MetricName.allCases.count)

        // Field order is DESIGN.md's, labels ascending then "all".
        let order = ["\"1\"", "\"2\"", "\"all\""].map { text.range(of: $0)!.lowerBound }
        XCTAssertEqual(order, order.sorted())
        let fields = MetricName.allCases.map { text.range(of: "\"\($0.rawValue)\"")!.lowerBound }
        XCTAssertEqual(fields, fields.sorted())
        XCTAssertTrue(text.contains("\"hd95\": null,\n      \"hd95_note\": \"prediction is empty\""), text)
    }

    func testRoundTripsExactly() throws {
        let metrics = try sample()
        XCTAssertEqual(try SegmentationMetrics(jsonData: Data(metrics.jsonString().utf8)), metrics)
        XCTAssertEqual(try SegmentationMetrics(jsonData: Data(metrics.jsonString(prettyPrinted: false).utf8)), metrics)
        let serialized = try JSONSerialization.data(withJSONObject: metrics.jsonObject())
        XCTAssertEqual(try SegmentationMetrics(jsonData: serialized), metrics)
        let encoded = try JSONEncoder().encode(metrics)
        XCTAssertEqual(try JSONDecoder().decode(SegmentationMetrics.self, from: encoded), metrics)
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).contains("\"hd_max_note\":\"prediction is empty\""))
        XCTAssertThrowsError(try SegmentationMetrics(jsonData: Data("{\"labels\": {}}".utf8)))
        XCTAssertThrowsError(try SegmentationMetrics(jsonData: Data("{\"labels\": {\"x\": {}}}".utf8)))
    }
}
