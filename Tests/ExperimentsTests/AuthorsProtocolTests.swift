import Foundation
import XCTest
import Experiments
import Tensors
import Volumes

/// The authors' protocol options of the paper specs: their DataLoader's step count, their uniform
/// crops and per-slice intensity draw, their `tailor_and_concat` tiling and their predict.py ensemble.
final class AuthorsProtocolTests: XCTestCase {
    // MARK: steps per epoch

    func testDropLastCountsWholeBatchesOnly() throws {
        var settings = TrainingSettings()
        settings.batchSize = 4
        XCTAssertEqual(settings.stepsPerEpoch(cases: 5), 2, "without drop_last the last, short batch is a step")
        settings.dropLast = true
        XCTAssertEqual(settings.stepsPerEpoch(cases: 5), 1, "their DataLoader: one step for 5 cases at batch 4")
        XCTAssertEqual(settings.stepsPerEpoch(cases: 40), 10)
        XCTAssertEqual(settings.stepsPerEpoch(cases: 3), 0, "3 cases fill no batch of 4")
        settings.batchSize = 2
        XCTAssertEqual(settings.stepsPerEpoch(cases: 5), 2)
        settings.iterationsPerEpoch = 7
        XCTAssertEqual(settings.stepsPerEpoch(cases: 5), 7, "iterations_per_epoch wins")
    }

    func testDropLastAndTheOtherOptionsReadFromYAML() throws {
        let spec = try SpecLoader.parse("""
            name: t
            backbone: {name: unetr, args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 12, mlp_dim: 12, num_heads: 2}}
            datasets: [{name: d, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 6}}]
            methods: [full]
            training: {drop_last: true, crops: uniform, intensity_draw: j_slices}
            evaluation: {tiling: cover, softmax: twice, stale_weights: true}
            """)
        XCTAssertEqual(spec.training.dropLast, true)
        XCTAssertEqual(spec.training.crops, .uniform)
        XCTAssertEqual(spec.training.intensityDraw, .jSlices)
        XCTAssertEqual(spec.evaluation.tiling, .cover)
        XCTAssertEqual(spec.evaluation.softmax, .twice)
        XCTAssertEqual(spec.evaluation.staleWeights, true)
        XCTAssertEqual(spec.evaluation.window(roi: [8, 8, 8]).weighting, .constant, "cover tiles average uniformly")
        XCTAssertThrowsError(try SpecLoader.parse("""
            name: t
            backbone: {name: unetr, args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16]}}
            datasets: [{name: d, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 6}}]
            methods: [full]
            evaluation: {tiling: covers}
            """)) { error in XCTAssertTrue("\(error)".contains("did you mean 'cover'"), "\(error)") }
    }

    // MARK: tiling

    func testCoverStartsOfTheMNIGrid() {
        XCTAssertEqual(SlidingWindow.coverStarts(size: 182, window: 128), [0, 54])
        XCTAssertEqual(SlidingWindow.coverStarts(size: 218, window: 128), [0, 90])
        XCTAssertEqual(SlidingWindow.coverStarts(size: 128, window: 128), [0], "a volume equal to the patch: one window")
        XCTAssertEqual(SlidingWindow.coverStarts(size: 100, window: 128), [0], "a smaller volume is padded: one window")
        XCTAssertEqual(SlidingWindow.coverStarts(size: 129, window: 128), [0, 1])
        XCTAssertEqual(SlidingWindow.coverStarts(size: 300, window: 128), [0, 86, 172], "fewest windows, evenly between the edges")
        XCTAssertEqual(SlidingWindow.coverStarts(size: 256, window: 128), [0, 128])
    }

    /// Every window weighs the same: a voxel covered by two windows gets the plain mean of their
    /// probabilities, and the windows are exactly the cover starts (8 for a volume larger than the
    /// window on every axis).
    func testCoverTilingAveragesItsWindowsUniformly() {
        let window = SlidingWindow(roi: [4, 4, 4], overlap: 0.5, weighting: .gaussian, tiling: .cover)
        let image = Tensor(zeros: [1, 1, 6, 7, 5])
        var calls = 0
        let probabilities = window.probabilities(for: image, classes: 2) { _ in
            calls += 1
            // Window number `calls` says "foreground" with logit `calls` (background 0).
            var logits = [Float](repeating: 0, count: 2 * 64)
            for v in 64..<128 { logits[v] = Float(calls) }
            return Tensor(logits, shape: [1, 2, 4, 4, 4])
        }
        XCTAssertEqual(calls, 8, "starts {0, 2} × {0, 3} × {0, 1}")
        func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
        func foreground(_ z: Int, _ y: Int, _ x: Int) -> Float { probabilities.pointer[((1 * 6 + z) * 7 + y) * 5 + x] }
        // Windows are visited z-major: (0,0,0)=1, (0,0,1)=2, (0,3,0)=3, (0,3,1)=4, (2,0,0)=5, ...
        XCTAssertEqual(foreground(0, 0, 0), sigmoid(1), accuracy: 1e-6, "only window 1 covers the corner")
        XCTAssertEqual(foreground(0, 0, 2), (sigmoid(1) + sigmoid(2)) / 2, accuracy: 1e-6, "x = 2 is in windows 1 and 2")
        XCTAssertEqual(foreground(3, 3, 2), (1...8).map { sigmoid(Float($0)) }.reduce(0, +) / 8, accuracy: 1e-6,
                       "the centre is in all eight, equally weighted")
    }

    // MARK: ensemble

    /// Four checkpoints whose networks say p(foreground) = 0.1, 0.2, 0.3, 0.4 for every voxel.
    private func ensembleOutputs(_ ensemble: CheckpointEnsemble, cases: Int) throws -> [Tensor] {
        let checkpoints = (0..<4).map { URL(fileURLWithPath: "/checkpoint-\($0)") }
        var loaded = -1
        return try ensemble.predict(cases: cases, checkpoints: checkpoints, load: { url in
            loaded = Int(url.lastPathComponent.split(separator: "-").last!)!
        }) { _ in
            let p = Float(loaded + 1) / 10
            return Tensor([1 - p, 1 - p, p, p], shape: [1, 2, 1, 1, 2])
        }
    }

    private func softmaxForeground(_ p: Float) -> Float { exp(p) / (exp(p) + exp(1 - p)) }

    func testEnsembleIsTheMeanOfSoftmaxOfSoftmax() throws {
        let plain = try ensembleOutputs(CheckpointEnsemble(), cases: 2)
        XCTAssertEqual(plain[1].pointer[2], 0.25, accuracy: 1e-6, "mean of 0.1 … 0.4")
        let twice = try ensembleOutputs(CheckpointEnsemble(softmaxTwice: true), cases: 2)
        let expected = [0.1, 0.2, 0.3, 0.4].map { softmaxForeground(Float($0)) }.reduce(0, +) / 4
        for n in 0..<2 {
            XCTAssertEqual(twice[n].pointer[2], expected, accuracy: 1e-6)
            XCTAssertEqual(twice[n].pointer[0] + twice[n].pointer[2], 1, accuracy: 1e-6)
        }
        var settings = EvaluationSettings()
        settings.softmax = .twice
        XCTAssertEqual(CheckpointEnsemble(settings), CheckpointEnsemble(softmaxTwice: true, staleWeights: false))
    }

    func testStaleWeightsReuseTheFirstCheckpointFromTheSecondCaseOn() throws {
        let stale = CheckpointEnsemble(softmaxTwice: true, staleWeights: true)
        XCTAssertEqual(stale.members(case: 0, checkpoints: 4), [0, 1, 2, 3])
        XCTAssertEqual(stale.members(case: 1, checkpoints: 4), [0, 1, 2, 0])
        XCTAssertEqual(CheckpointEnsemble().members(case: 5, checkpoints: 4), [0, 1, 2, 3], "off by default")
        let outputs = try ensembleOutputs(stale, cases: 3)
        let honest = [0.1, 0.2, 0.3, 0.4].map { softmaxForeground(Float($0)) }.reduce(0, +) / 4
        let slipped = [0.1, 0.2, 0.3, 0.1].map { softmaxForeground(Float($0)) }.reduce(0, +) / 4
        XCTAssertEqual(outputs[0].pointer[2], honest, accuracy: 1e-6, "the first case uses every checkpoint")
        XCTAssertEqual(outputs[1].pointer[2], slipped, accuracy: 1e-6, "epoch-996 weights for the 999 term")
        XCTAssertEqual(outputs[2].pointer[2], slipped, accuracy: 1e-6)
    }

    // MARK: crops and intensity

    /// A case whose voxel value is its i coordinate (no normalisation), so a patch's first voxel
    /// tells where it was cut.
    private func rampCase(size: [Int]) throws -> PreparedCase {
        var image: [Float] = []
        for _ in 0..<size[2] { for _ in 0..<size[1] { for i in 0..<size[0] { image.append(Float(i)) } } }
        let volume = try Volume(shape: size, voxels: image, spacing: [1, 1, 1])
        let labels = try Volume(shape: size, voxels: [Float](repeating: 0, count: image.count), spacing: [1, 1, 1])
        return try CasePreparation.prepare(image: volume, label: labels, id: "ramp", dataset: "t", labelMap: nil,
                                           preprocessing: PreprocessingSpec(normalize: .none))
    }

    /// Uniform crops draw each of the 3 possible starts about a third of the time; centred crops pile
    /// up at the edges (a centre in 0…4 of 10 clamps to start 0).
    func testUniformCropsDrawEveryStartEqually() throws {
        let c = try rampCase(size: [10, 8, 8])
        func startCounts(_ placement: AugmentationOptions.CropPlacement) throws -> [Int] {
            var options = AugmentationOptions(patchSize: [8, 8, 8], batchSize: 1, foregroundRatio: 0)
            options.flipProbability = 0
            options.intensityProbability = 0
            options.crops = placement
            var sampler = try PatchSampler(cases: [c], options: options, seed: 3)
            var counts = [0, 0, 0]
            for _ in 0..<3000 { counts[Int(sampler.nextSample().image[0])] += 1 }
            return counts
        }
        for count in try startCounts(.uniform) { XCTAssertEqual(Double(count), 1000, accuracy: 120) }
        let centred = try startCounts(.centred)
        XCTAssertEqual(Double(centred[0]), 1500, accuracy: 120, "centred crops: half the draws at the edge")
    }

    /// The authors' `transform`: one scale in [0.9, 1.1] and one absolute shift in [−0.1, 0.1] per index
    /// of the j axis (a [1, patch_j, 1, 1] draw), applied to every voxel of the crop, background too.
    func testPerSliceIntensityDrawCoversTheWholeCrop() throws {
        let size = [6, 5, 4]
        let zeros = try Volume(shape: size, voxels: [Float](repeating: 0, count: 120), spacing: [1, 1, 1])
        let background = try CasePreparation.prepare(image: zeros, label: zeros, id: "empty", dataset: "t", labelMap: nil,
                                                     preprocessing: PreprocessingSpec(normalize: .none))
        var options = AugmentationOptions(patchSize: size, batchSize: 1, foregroundRatio: 0)
        options.flipProbability = 0
        options.intensityDraw = .jSlices
        var sampler = try PatchSampler(cases: [background], options: options, seed: 5)
        var (scales, shifts) = sampler.intensityDraws(intensityStd: 50)
        XCTAssertEqual(scales.count, 5, "one draw per j index of the patch")
        XCTAssertEqual(shifts.count, 5)
        for _ in 0..<200 {
            (scales, shifts) = sampler.intensityDraws(intensityStd: 50)
            XCTAssert(scales.allSatisfy { (0.9...1.1).contains($0) }, "\(scales)")
            XCTAssert(shifts.allSatisfy { (-0.1...0.1).contains($0) }, "absolute, not × the case's SD: \(shifts)")
            XCTAssertGreaterThan(Set(shifts).count, 1, "the draws differ between j slices")
        }
        // On an all-background crop the output is the shift of each j slice, constant along i and k.
        let patch = sampler.nextSample().image
        var perSlice = [Float?](repeating: nil, count: 5)
        for k in 0..<4 { for j in 0..<5 { for i in 0..<6 {
            let value = patch[(k * 5 + j) * 6 + i]
            XCTAssertTrue((-0.1...0.1).contains(value))
            if let seen = perSlice[j] { XCTAssertEqual(value, seen) } else { perSlice[j] = value }
        }}}
        XCTAssertTrue(perSlice.contains { $0 != 0 }, "background is shifted too")
        XCTAssertGreaterThan(Set(perSlice.compactMap { $0 }).count, 1)
        // The default stays MONAI's: one scale and one shift per crop, the shift × the case's SD.
        options.intensityDraw = .crop
        var monai = try PatchSampler(cases: [background], options: options, seed: 5)
        let (one, shift) = monai.intensityDraws(intensityStd: 50)
        XCTAssertEqual(one.count, 1)
        XCTAssertLessThanOrEqual(abs(shift[0]), 5)
    }
}
