import Foundation
import XCTest
import Experiments
import Tensors
import Volumes

/// Training patches: shapes, padding, foreground oversampling, determinism.
final class DataSamplerTests: XCTestCase {
    /// A 40³ case with a 4³ foreground cube in the middle (0.1 % of the voxels).
    private func blobCase(size: [Int] = [40, 40, 40], blob: Range<Int> = 18..<22) throws -> PreparedCase {
        var image: [Float] = [], label: [Float] = []
        for k in 0..<size[2] { for j in 0..<size[1] { for i in 0..<size[0] {
            let inside = blob.contains(i) && blob.contains(j) && blob.contains(k)
            label.append(inside ? 1 : 0)
            image.append(Float(i + j + k) / 10 + (inside ? 5 : 1))
        } } }
        let volume = try Volume(shape: size, voxels: image, spacing: [1, 1, 1])
        let labels = try Volume(shape: size, voxels: label, spacing: [1, 1, 1])
        return try CasePreparation.prepare(image: volume, label: labels, id: "blob", dataset: "t", labelMap: nil,
                                           preprocessing: PreprocessingSpec(normalize: .none))
    }

    private func options(_ patch: [Int], ratio: Double = 0.5, flips: Bool = true) -> AugmentationOptions {
        var o = AugmentationOptions(patchSize: patch, batchSize: 2, foregroundRatio: ratio)
        if !flips { o.flipProbability = 0 }
        return o
    }

    func testForegroundRatioIsAboutAsRequested() throws {
        let c = try blobCase()
        for ratio in [0.0, 0.3, 0.7] {
            var sampler = try PatchSampler(cases: [c], options: options([16, 16, 16], ratio: ratio), seed: 1)
            let n = 3000
            var hits = 0, flagged = 0
            for _ in 0..<n {
                let sample = sampler.nextSample()
                let centre = sample.centre
                if c.label[centre[0] + 40 * (centre[1] + 40 * centre[2])] > 0 { hits += 1 }
                if sample.foregroundCentre {
                    flagged += 1
                    XCTAssertGreaterThan(sample.label.reduce(0, +), 0, "a foreground-centred patch holds foreground")
                }
            }
            // Random centres hit the 0.1 % foreground almost never.
            XCTAssertEqual(Double(hits) / Double(n), ratio, accuracy: 0.035, "ratio \(ratio)")
            XCTAssertEqual(Double(flagged) / Double(n), ratio, accuracy: 0.035)
        }
    }

    func testDeterministicPerSeed() throws {
        let c = try blobCase()
        var a = try PatchSampler(cases: [c, c], options: options([16, 12, 8]), seed: 42)
        var b = try PatchSampler(cases: [c, c], options: options([16, 12, 8]), seed: 42)
        var other = try PatchSampler(cases: [c, c], options: options([16, 12, 8]), seed: 43)
        var differs = false
        for _ in 0..<5 {
            let (ia, la) = a.nextBatch(), (ib, lb) = b.nextBatch(), (io, _) = other.nextBatch()
            XCTAssertEqual(ia.values, ib.values)
            XCTAssertEqual(la.values, lb.values)
            if io.values != ia.values { differs = true }
        }
        XCTAssertTrue(differs)
    }

    /// The trainer reseeds the sampler every epoch; reseeding in place (no rebuild, no re-check) must
    /// draw exactly what a sampler built with that seed draws, even when the last epoch stopped mid-pass.
    func testReseedingInPlaceDrawsWhatAFreshSamplerDraws() throws {
        let cases = [try blobCase(), try blobCase(blob: 8..<14), try blobCase(size: [30, 36, 40], blob: 20..<26)]
        var o = options([16, 12, 8], ratio: 0.4)
        o.intensityScale = [0.8, 1.2]
        o.intensityShift = 0.2
        var reseeded = try PatchSampler(cases: cases, options: o, seed: 3)
        _ = reseeded.nextBatch()  // two of the three cases drawn: the pass is half done
        reseeded.reseed(11)
        var fresh = try PatchSampler(cases: cases, options: o, seed: 11)
        for draw in 0..<7 {
            let a = reseeded.nextSample(), b = fresh.nextSample()
            XCTAssertEqual(a.caseID, b.caseID, "draw \(draw)")
            XCTAssertEqual(a.centre, b.centre, "draw \(draw)")
            XCTAssertEqual(a.flipped, b.flipped, "draw \(draw)")
            XCTAssertEqual(a.image, b.image, "draw \(draw)")
            XCTAssertEqual(a.label, b.label, "draw \(draw)")
        }
    }

    func testBatchShapesAndPaddingOfSmallCases() throws {
        let small = try blobCase(size: [10, 8, 6], blob: 2..<5)
        var o = options([16, 12, 8], flips: false)
        o.intensityProbability = 0
        var sampler = try PatchSampler(cases: [small], options: o, seed: 0)
        let (image, label) = sampler.nextBatch()
        XCTAssertEqual(image.shape, [2, 1, 8, 12, 16])
        XCTAssertEqual(label.shape, [2, 8, 12, 16])
        let sample = sampler.nextSample()
        XCTAssertEqual(sample.image.count, 16 * 12 * 8)
        // The whole case fits: every case voxel appears once, the rest is background and label 0.
        XCTAssertEqual(sample.label.reduce(0, +), small.label.reduce(0, +))
        let background = sample.image.filter { $0 == small.background }.count
        XCTAssertGreaterThanOrEqual(background, 16 * 12 * 8 - 10 * 8 * 6)
        let padding = Float(16 * 12 * 8 - 10 * 8 * 6) * small.background
        XCTAssertEqual(small.background, 1, "the minimum, with normalize: none")
        XCTAssertEqual(sample.image.reduce(0, +) - padding, small.image.reduce(0, +), accuracy: 1e-2)
    }

    func testFlipsAndIntensityAugmentation() throws {
        let c = try blobCase()
        var o = options([40, 40, 40])
        o.flipProbability = 1
        o.intensityProbability = 0
        var flipping = try PatchSampler(cases: [c], options: o, seed: 3)
        let flipped = flipping.nextSample()
        XCTAssertEqual(flipped.flipped, [true, true, true])
        XCTAssertEqual(flipped.image, c.image.reversed(), "all three axes flipped = reversed order")

        var scaling = options([40, 40, 40], flips: false)
        scaling.intensityShift = 0
        var sampler = try PatchSampler(cases: [c], options: scaling, seed: 4)
        for _ in 0..<20 {
            let sample = sampler.nextSample()
            let ratio = sample.image[100] / c.image[100]
            XCTAssertTrue((0.9...1.1).contains(ratio), "\(ratio)")
            for n in stride(from: 0, to: c.image.count, by: 997) {
                XCTAssertEqual(sample.image[n], c.image[n] * ratio, accuracy: 1e-4)
            }
        }
    }

    func testAugmentationOptionsDecodeWithDefaultsAndRejectTypos() throws {
        let o = try JSONDecoder().decode(AugmentationOptions.self, from: Data("{\"patch_size\": 32}".utf8))
        XCTAssertEqual(o.patchSize, [32, 32, 32])
        XCTAssertEqual(o.foregroundRatio, 0.5)
        XCTAssertEqual(o.intensityScale, [0.9, 1.1])
        XCTAssertThrowsError(try JSONDecoder().decode(AugmentationOptions.self, from: Data("{\"foreground_ration\": 0.3}".utf8))) {
            XCTAssertTrue("\($0)".contains("did you mean 'foreground_ratio'"), "\($0)")
        }
        XCTAssertThrowsError(try JSONDecoder().decode(AugmentationOptions.self, from: Data("{\"foreground_ratio\": 3}".utf8)))
    }
}
