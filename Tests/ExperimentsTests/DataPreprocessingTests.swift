import Foundation
import XCTest
import Experiments
import Volumes

/// Preprocessing steps, each on a volume whose answer is known.
final class DataPreprocessingTests: XCTestCase {
    private func prepare(_ image: Volume, _ label: Volume, _ preprocessing: PreprocessingSpec, map: LabelMap? = nil) throws -> PreparedCase {
        try CasePreparation.prepare(image: image, label: label, id: "c", dataset: "t", labelMap: map, preprocessing: preprocessing)
    }

    /// A volume whose voxel value encodes its (i, j, k): 100 i + 10 j + k.
    private func indexed(_ shape: [Int], affine: Affine? = nil, spacing: [Double] = [1, 1, 1]) throws -> Volume {
        var voxels: [Float] = []
        for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] { voxels.append(Float(100 * i + 10 * j + k)) } } }
        return try Volume(shape: shape, voxels: voxels, spacing: spacing, affine: affine)
    }

    private func zeros(_ shape: [Int], affine: Affine? = nil, spacing: [Double] = [1, 1, 1]) throws -> Volume {
        try Volume(shape: shape, voxels: [Float](repeating: 0, count: shape.reduce(1, *)), spacing: spacing, affine: affine)
    }

    func testZScoreOverNonzeroKeepsBackgroundZero() throws {
        var voxels = [Float](repeating: 0, count: 4 * 4 * 4)
        for n in 0..<32 { voxels[n * 2] = Float(10 + n) }
        let image = try Volume(shape: [4, 4, 4], voxels: voxels, spacing: [1, 1, 1])
        let prepared = try prepare(image, try zeros([4, 4, 4]), PreprocessingSpec(normalize: .zscoreNonzero))
        let foreground = (0..<64).filter { voxels[$0] > 0 }.map { prepared.image[$0] }
        let mean = foreground.reduce(0, +) / Float(foreground.count)
        let variance = foreground.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(foreground.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(variance, 1, accuracy: 1e-4)
        for n in 0..<64 where voxels[n] == 0 { XCTAssertEqual(prepared.image[n], 0) }
        XCTAssertEqual(prepared.background, 0)
        XCTAssertEqual(prepared.intensityStd, 1, accuracy: 1e-4)

        let plain = try prepare(image, try zeros([4, 4, 4]), PreprocessingSpec(normalize: .zscore))
        XCTAssertEqual(plain.image.reduce(0, +) / 64, 0, accuracy: 1e-5)
        XCTAssertEqual(plain.background, plain.image.min()!)
        let minmax = try prepare(image, try zeros([4, 4, 4]), PreprocessingSpec(normalize: .minmax))
        XCTAssertEqual(minmax.image.min(), 0)
        XCTAssertEqual(minmax.image.max(), 1)
    }

    func testPercentileClipping() throws {
        var voxels = (0..<100).map { Float($0 + 1) }
        voxels[99] = 10_000   // an outlier
        let image = try Volume(shape: [10, 10, 1], voxels: voxels, spacing: [1, 1, 1])
        let prepared = try prepare(image, try zeros([10, 10, 1]),
                                   PreprocessingSpec(normalize: .none, clipPercentiles: [1, 99]))
        XCTAssertEqual(prepared.image.max()!, 99 + 0.01 * (10_000 - 99), accuracy: 0.01)   // NumPy's linear percentile
        XCTAssertEqual(prepared.image.min()!, 1.99, accuracy: 1e-4)
    }

    func testLabelMapsMergeAndSelect() throws {
        let image = try indexed([4, 1, 1])
        let label = try Volume(shape: [4, 1, 1], voxels: [0, 1, 2, 3], spacing: [1, 1, 1])
        XCTAssertEqual(try prepare(image, label, PreprocessingSpec(), map: .map([1: 1, 2: 1])).label, [0, 1, 1, 0])
        XCTAssertEqual(try prepare(image, label, PreprocessingSpec(), map: .select([3])).label, [0, 0, 0, 1])
        XCTAssertEqual(try prepare(image, label, PreprocessingSpec()).label, [0, 1, 2, 3])
        let fractional = try Volume(shape: [4, 1, 1], voxels: [0, 0.5, 1, 1], spacing: [1, 1, 1])
        assertDataError(try prepare(image, fractional, PreprocessingSpec()), mentions: ["case 'c'", "non-integer"])
    }

    func testNonFiniteVoxelsNameTheCase() throws {
        var voxels = [Float](repeating: 1, count: 27)
        voxels[13] = .nan
        let image = try Volume(shape: [3, 3, 3], voxels: voxels, spacing: [1, 1, 1])
        assertDataError(try prepare(image, try zeros([3, 3, 3]), PreprocessingSpec()),
                        mentions: ["data set 't', case 'c'", "NaN", "(1, 1, 1)"])
    }

    /// An LPS volume (i → left, j → posterior) brought to RAS: i and j reversed, k kept, and the affine
    /// still maps each voxel to the same world point.
    func testRASReorientationOfAnLPSVolumeFlipsTheRightAxes() throws {
        let shape = [4, 3, 2]
        let lps = Affine(rows: [[-1, 0, 0, 10], [0, -1, 0, 20], [0, 0, 1, -5], [0, 0, 0, 1]])!
        let image = try indexed(shape, affine: lps)
        XCTAssertEqual(image.orientation, "LPS")
        let prepared = try prepare(image, try zeros(shape, affine: lps), PreprocessingSpec(normalize: .none, orientation: "RAS"))
        XCTAssertEqual(prepared.gridSize, [4, 3, 2])
        XCTAssertEqual(prepared.affine.axisCodes, "RAS")
        for k in 0..<2 { for j in 0..<3 { for i in 0..<4 {
            let value = prepared.image[i + 4 * (j + 3 * k)]
            XCTAssertEqual(value, Float(100 * (3 - i) + 10 * (2 - j) + k))
            let world = prepared.affine.apply(Double(i), Double(j), Double(k))
            let source = image.affine.apply(Double(3 - i), Double(2 - j), Double(k))
            XCTAssertEqual(world, source)
        } } }
    }

    /// A permuted grid (i → superior, j → right, k → anterior: "SRA") becomes RAS by a permutation.
    func testReorientationPermutesAxes() throws {
        let sra = Affine(rows: [[0, 2, 0, 0], [0, 0, 3, 0], [1, 0, 0, 0], [0, 0, 0, 1]])!
        let image = try indexed([4, 3, 2], affine: sra, spacing: [1, 2, 3])
        XCTAssertEqual(image.orientation, "SRA")
        let prepared = try prepare(image, try zeros([4, 3, 2], affine: sra, spacing: [1, 2, 3]), PreprocessingSpec(normalize: .none))
        XCTAssertEqual(prepared.gridSize, [3, 2, 4])
        XCTAssertEqual(prepared.spacing, [2, 3, 1])
        // Output (a, b, c) reads input (i = c, j = a, k = b).
        XCTAssertEqual(prepared.image[1 + 3 * (1 + 2 * 2)], Float(100 * 2 + 10 * 1 + 1))
        // Keep: no change.
        let kept = try prepare(image, try zeros([4, 3, 2], affine: sra, spacing: [1, 2, 3]), PreprocessingSpec(normalize: .none, orientation: nil))
        XCTAssertEqual(kept.image, image.voxels)
    }

    func testNearestNeighbourLabelResamplingKeepsLabelValues() throws {
        let shape = [8, 8, 8]
        let labels = (0..<512).map { Float([0, 1, 2, 5][($0 / 3) % 4]) }
        let label = try Volume(shape: shape, voxels: labels, spacing: [1, 1, 1])
        let prepared = try prepare(try indexed(shape), label, PreprocessingSpec(normalize: .none, spacing: [0.7, 1.3, 2]))
        XCTAssertEqual(prepared.gridSize, [11, 6, 4])   // round(8 · old / new)
        XCTAssertEqual(prepared.spacing.map { ($0 * 1e6).rounded() / 1e6 }, [0.7, 1.3, 2])
        XCTAssertEqual(Set(prepared.label), [0, 1, 2, 5])
        // Trilinear images interpolate: output voxel (1, 0, 0) sits at input i = 0.7.
        XCTAssertEqual(prepared.image[1], 70, accuracy: 1e-3)
        // Voxel (0, 0, 0) keeps its world position.
        XCTAssertEqual(prepared.affine.apply(0, 0, 0), SIMD3(0, 0, 0))
    }

    func testCropPadAndBoxSizes() throws {
        let shape = [10, 7, 4]
        let image = try indexed(shape)
        let label = try zeros(shape)
        let cropped = try prepare(image, label, PreprocessingSpec(normalize: .none, cropTo: [6, 8, 4]))
        XCTAssertEqual(cropped.gridSize, [6, 7, 4])
        XCTAssertEqual(cropped.image[0], 200, "centre crop starts at i = (10 − 6) / 2")
        let padded = try prepare(image, label, PreprocessingSpec(normalize: .none, padTo: [10, 9, 8]))
        XCTAssertEqual(padded.gridSize, [10, 9, 8])
        XCTAssertEqual(padded.image[0], 0, "padded with the background (the minimum, 0 here)")
        XCTAssertEqual(padded.image[1 + 10 * (1 + 9 * 2)], 100, "original (1, 0, 0) sits at (1, 1, 2)")
        let both = try prepare(image, label, PreprocessingSpec(normalize: .none, cropTo: [8, 8, 8], padTo: [8, 8, 8]))
        XCTAssertEqual(both.gridSize, [8, 8, 8])
        let box = try prepare(image, label, PreprocessingSpec(normalize: .none, box: .voxels(start: [8, -1, 1], size: [4, 3, 2])))
        XCTAssertEqual(box.gridSize, [4, 3, 2])
        XCTAssertEqual(box.image[0], 0, "(8, −1, 1) lies outside: padded")
        XCTAssertEqual(box.image[0 + 4 * 1], Float(800 + 0 + 1), "(8, 0, 1)")
        XCTAssertEqual(box.affine.apply(0, 0, 0), SIMD3(8, -1, 1))
        let world = try prepare(image, label, PreprocessingSpec(normalize: .none, box: .world(min: [2, 1, 0], max: [5, 3, 2])))
        XCTAssertEqual(world.gridSize, [4, 3, 3])
        XCTAssertEqual(world.image[0], 210)
    }

    /// Sizes that would exhaust memory fail with a message naming the case.
    func testAbsurdSizesAreRefused() throws {
        let image = try indexed([4, 4, 4]), label = try zeros([4, 4, 4])
        assertDataError(try prepare(image, label, PreprocessingSpec(spacing: [1e-4, 1e-4, 1])), mentions: ["case 'c'", "resampling"])
        assertDataError(try prepare(image, label, PreprocessingSpec(spacing: [1e-300, 1, 1])), mentions: ["case 'c'"])
        assertDataError(try prepare(image, label, PreprocessingSpec(box: .world(min: [-1e12, 0, 0], max: [1e12, 1, 1]))),
                        mentions: ["world box"])
        assertDataError(try prepare(image, label, PreprocessingSpec(box: .world(min: [-1e6, -1e6, -1e6], max: [1e6, 1e6, 1e6]))),
                        mentions: ["more than"])
        XCTAssertThrowsError(try JSONDecoder().decode(PreprocessingSpec.self, from: Data("{\"pad_to\": [100000, 1, 1]}".utf8)))
        var options = AugmentationOptions(patchSize: [0, 16, 16])
        assertDataError(try PatchSampler(cases: [try prepare(image, label, PreprocessingSpec())], options: options, seed: 0),
                        mentions: ["patch_size"])
        options = AugmentationOptions()
        options.flipAxes = [3]
        assertDataError(try PatchSampler(cases: [try prepare(image, label, PreprocessingSpec())], options: options, seed: 0),
                        mentions: ["flip_axes"])
    }

    func testPreparedTensorsUseTheEngineLayout() throws {
        let prepared = try prepare(try indexed([4, 3, 2]), try zeros([4, 3, 2]), PreprocessingSpec(normalize: .none))
        XCTAssertEqual(prepared.tensorShape, [2, 3, 4])
        XCTAssertEqual(prepared.imageTensor().shape, [1, 1, 2, 3, 4])
        XCTAssertEqual(prepared.labelTensor().shape, [1, 2, 3, 4])
        // [k, j, i] row-major: element (k=1, j=2, i=3) is voxel (3, 2, 1).
        XCTAssertEqual(prepared.imageTensor()[flat: 1 * 12 + 2 * 4 + 3], 321)
        XCTAssertEqual(AxisOrder.tensorShape(fromNIfTI: [96, 80, 64]), [64, 80, 96])
    }
}
