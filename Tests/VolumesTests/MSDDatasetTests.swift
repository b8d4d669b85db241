import Foundation
import TestSupport
import XCTest
import Volumes

/// The real MSD Task04 Hippocampus folder, as found (mixed dtypes, a stray image, a .DS_Store).
final class MSDDatasetTests: XCTestCase {
    func testEveryListedPairLoadsOnOneGrid() throws {
        let pairs = try SharedData.msdPairs()
        XCTAssertEqual(pairs.count, 200)
        var imageTypes: [NIfTIDatatype: Int] = [:]
        var labelTypes: [NIfTIDatatype: Int] = [:]
        var foundLabels = Set<Int>()
        let start = Date()
        let cpuStart = clock()
        var volumes: [(Volume, Volume)] = []
        for (imageURL, labelURL) in pairs {
            volumes.append((try NIfTI.read(imageURL), try NIfTI.read(labelURL)))
        }
        let seconds = Date().timeIntervalSince(start)
        let cpuSeconds = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
        print("loaded \(pairs.count) MSD image/label pairs in \(String(format: "%.3f", seconds)) s wall, "
              + "\(String(format: "%.3f", cpuSeconds)) s CPU")

        for (image, label) in volumes {
            XCTAssertEqual(image.shape, label.shape, image.name)
            XCTAssertEqual(image.shape.count, 3, image.name)
            try checkSameGrid(image: image, label: label)
            for spacing in image.spacing + label.spacing { XCTAssertEqual(spacing, 1, accuracy: 1e-6, image.name) }
            XCTAssertEqual(image.voxelVolumeMM3, 1, accuracy: 1e-6)
            XCTAssertTrue(image.affine.isClose(to: label.affine), label.name)
            XCTAssertEqual(image.orientation.count, 3)
            try image.requireFinite()
            let values = try label.labelValues()
            XCTAssertTrue(Set(values).isSubset(of: [0, 1, 2]), "\(label.name): \(values)")
            foundLabels.formUnion(values)
            imageTypes[image.source!.datatype, default: 0] += 1
            labelTypes[label.source!.datatype, default: 0] += 1
        }
        XCTAssertEqual(foundLabels, [0, 1, 2])
        XCTAssertEqual(Set(imageTypes.keys), [.float32, .uint8], "\(imageTypes)")
        XCTAssertEqual(labelTypes[.float32], 2, "two labels are stored as float32: \(labelTypes)")
        XCTAssertEqual(labelTypes[.uint8], 198)
        XCTAssertLessThan(seconds, 30, "loading 200 pairs should take a second or two")
    }

    func testStrayImageHasNoLabelAndIsNotListed() throws {
        let folder = try SharedData.msdHippocampus()
        let stray = folder.appendingPathComponent("imagesTr/hippocampus_118.nii.gz")
        XCTAssertTrue(FileManager.default.fileExists(atPath: stray.path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("labelsTr/hippocampus_118.nii.gz").path))
        XCTAssertFalse(try SharedData.msdPairs().contains { $0.image.lastPathComponent == "hippocampus_118.nii.gz" })
        // The image itself is fine; only its label is missing.
        XCTAssertEqual(try NIfTI.read(stray).shape.count, 3)
        assertVolumeError(
            try NIfTI.read(folder.appendingPathComponent("labelsTr/hippocampus_118.nii.gz")),
            names: "hippocampus_118.nii.gz"
        ) { if case .missingFile = $0 { return true } else { return false } }
    }

    func testDSStoreIsNotAnImage() throws {
        let folder = try SharedData.msdHippocampus()
        let error = assertVolumeError(
            try NIfTI.read(folder.appendingPathComponent("imagesTr/.DS_Store")), names: ".DS_Store"
        ) { if case .notNIfTI = $0 { return true } else { return false } }
        print(error.map { "\($0)" } ?? "")
    }

    /// Reading holds no shared state: two threads give the same voxels as one.
    func testConcurrentReadsMatchSequentialReads() throws {
        let urls = try SharedData.msdPairs().prefix(40).flatMap { [$0.image, $0.label] }
        let sequential = try urls.map { try NIfTI.read($0).voxels }
        let results = Slots(count: urls.count)
        DispatchQueue.concurrentPerform(iterations: urls.count) { n in
            results.set(n, try? NIfTI.read(urls[n]).voxels)
        }
        XCTAssertEqual(results.values, sequential.map { Optional($0) })
    }
}

/// Lock-protected result slots for concurrentPerform.
private final class Slots: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [[Float]?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: [Float]?) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
