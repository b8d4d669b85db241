import Backbones
import Experiments
import Foundation
import PEFTMethods
import Tensors
import XCTest

/// Random bright ellipsoids on noise: a task a tiny UNETR can learn in seconds.
struct BlobBatches: BatchSource {
    var rng: RandomGenerator
    let size: Int, batch: Int

    init(size: Int = 32, batch: Int = 2, seed: UInt64 = 0) {
        (self.size, self.batch) = (size, batch)
        rng = RandomGenerator(seed: seed, stream: "blobs")
    }

    mutating func reseed(_ seed: UInt64) { rng = RandomGenerator(seed: seed, stream: "blobs") }

    mutating func nextBatch() -> (image: Tensor, label: Tensor) {
        let volume = size * size * size
        let image = Tensor(uninitialized: [batch, 1, size, size, size]), label = Tensor(zeros: [batch, size, size, size])
        for b in 0..<batch {
            let centre = (0..<3).map { _ in rng.uniform(0.3, 0.7) * Float(size) }
            let radii = (0..<3).map { _ in rng.uniform(0.12, 0.25) * Float(size) }
            for z in 0..<size { for y in 0..<size { for x in 0..<size {
                let p = [Float(z), Float(y), Float(x)]
                let r = (0..<3).map { (p[$0] - centre[$0]) / radii[$0] }.map { $0 * $0 }.reduce(0, +)
                let i = b * volume + (z * size + y) * size + x
                label.pointer[i] = r < 1 ? 1 : 0
                image.pointer[i] = (r < 1 ? 1.5 : 0) + 0.5 * rng.normal()
            }}}
        }
        return (image, label)
    }

    mutating func heldOut(_ count: Int) -> [ValidationCase] {
        let single = BlobBatches(size: size, batch: 1, seed: 0)
        var generator = single
        generator.rng = rng
        return (0..<count).map { n in
            let (image, label) = generator.nextBatch()
            return ValidationCase(id: "blob\(n)", image: image, label: label.reshaped([size, size, size]))
        }
    }
}

private func tinyUNETR(seed: UInt64) throws -> any Backbone {
    var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [32, 32, 32])
    (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = (8, 48, 96, 4)
    return try makeBackbone(.unetr(c), seed: seed)
}

private func settings(epochs: Int) -> TrainingSettings {
    var s = TrainingSettings()
    (s.epochs, s.learningRate, s.validateEvery, s.keepLast, s.weightDecay) = (epochs, 3e-3, 0, 2, 0)
    s.loss = .diceCE
    return s
}

final class TrainerTests: XCTestCase {
    func testTinyUNETRLearnsHeldOutSyntheticCases() throws {
        let model = try tinyUNETR(seed: 1)
        let trainer = Trainer(model: model, parameters: model.trainableParameters(), settings: settings(epochs: 12), classes: 2,
                              window: SlidingWindow(roi: [32, 32, 32]), seed: 1, folder: nil)
        var batches = BlobBatches(seed: 2)
        var heldOut = BlobBatches(seed: 99)
        let validation = heldOut.heldOut(4)
        let started = Date()
        let outcome = try trainer.run(batches: &batches, validation: [], iterationsPerEpoch: 10)
        let dice = trainer.validationDice(validation)
        print("tiny UNETR: \(outcome.steps) steps in \(Int(Date().timeIntervalSince(started))) s, held-out Dice \(dice)")
        XCTAssertGreaterThan(dice, 0.8)
    }

    func testInterruptedTrainingResumesToTheSameWeights() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        func train(folder: URL?, stopAfter: Int? = nil) throws -> (any Backbone, TrainingOutcome) {
            let model = try tinyUNETR(seed: 3)
            var rng = RandomGenerator(seed: 3, stream: "method")
            let adaptation = try LoRA().apply(to: model, rng: &rng)
            let trainer = Trainer(model: model, parameters: adaptation.trainableParameters, settings: settings(epochs: 4),
                                  classes: 2, window: SlidingWindow(roi: [32, 32, 32]), seed: 3, folder: folder)
            if let stopAfter { trainer.shouldStop = { $0 == stopAfter } }
            var batches = BlobBatches(seed: 4)
            return (model, try trainer.run(batches: &batches, validation: [], iterationsPerEpoch: 2))
        }
        let (uninterrupted, _) = try train(folder: nil)
        // Interrupted after its second epoch's checkpoint: only the checkpoint folder survives …
        XCTAssertThrowsError(try train(folder: folder, stopAfter: 1))
        // … and a fresh trainer (a new process) resumes from it.
        let (resumed, outcome) = try train(folder: folder)
        XCTAssertEqual(outcome.resumedFromEpoch, 1)
        XCTAssertEqual(outcome.history.count, 4)
        // Its timing covers both runs: the checkpoint carried the first run's epoch times.
        XCTAssertEqual(outcome.epochSeconds.count, 4)
        XCTAssert(outcome.epochSeconds.allSatisfy { $0 > 0 }, "\(outcome.epochSeconds)")
        XCTAssertGreaterThanOrEqual(outcome.seconds, outcome.epochSeconds.reduce(0, +))
        let a = Dictionary(uniqueKeysWithValues: uninterrupted.namedParameters().map { ($0.0, $0.1.value.values) })
        for (name, parameter) in resumed.namedParameters() {
            XCTAssert(parameter.value.values == a[name], "\(name) differs after resuming")
        }
    }

    func testDivergingLossEndsWithTheStep() throws {
        let model = try tinyUNETR(seed: 5)
        var s = settings(epochs: 3)
        s.learningRate = 1e9
        s.optimizer = .sgd
        let trainer = Trainer(model: model, parameters: model.trainableParameters(), settings: s, classes: 2,
                              window: SlidingWindow(roi: [32, 32, 32]), seed: 5, folder: nil)
        var batches = BlobBatches(seed: 6)
        XCTAssertThrowsError(try trainer.run(batches: &batches, validation: [], iterationsPerEpoch: 3)) { error in
            XCTAssert("\(error)".contains("training diverged"), "\(error)")
            XCTAssert("\(error)".contains("step"), "\(error)")
        }
    }

    func testCorruptCheckpointIsRefusedWithItsPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try tinyUNETR(seed: 7)
        let trainer = Trainer(model: model, parameters: model.trainableParameters(), settings: settings(epochs: 1), classes: 2,
                              window: SlidingWindow(roi: [32, 32, 32]), seed: 7, folder: folder)
        var batches = BlobBatches(seed: 8)
        _ = try trainer.run(batches: &batches, validation: [], iterationsPerEpoch: 1)
        let last = folder.appendingPathComponent("last.safetensors")
        var bytes = try Data(contentsOf: last)
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: last)
        var more = settings(epochs: 2)
        more.epochs = 2
        let again = Trainer(model: model, parameters: model.trainableParameters(), settings: more, classes: 2,
                            window: SlidingWindow(roi: [32, 32, 32]), seed: 7, folder: folder)
        XCTAssertThrowsError(try again.run(batches: &batches, validation: [], iterationsPerEpoch: 1)) { error in
            XCTAssert("\(error)".contains("checksum mismatch"), "\(error)")
            XCTAssert("\(error)".contains(last.path), "\(error)")
        }
    }
}

final class SlidingWindowTests: XCTestCase {
    func testWindowStartsCoverTheImageLikeMONAI() {
        // MONAI: interval = int(roi · (1 − overlap)); last window clamped to the edge.
        XCTAssertEqual(SlidingWindow.starts(size: 100, window: 32, overlap: 0.5), [0, 16, 32, 48, 64, 68])
        XCTAssertEqual(SlidingWindow.starts(size: 32, window: 32, overlap: 0.5), [0])
        XCTAssertEqual(SlidingWindow.starts(size: 20, window: 32, overlap: 0.5), [0])
        XCTAssertEqual(SlidingWindow.starts(size: 40, window: 32, overlap: 0.25), [0, 8])
    }

    func testSlidingWindowOfAPointwiseModelIsThePointwiseModel() {
        // A per-voxel function gives the same output whatever the windows: weights cancel.
        var rng = RandomGenerator(seed: 1)
        let image = Tensor.normal([1, 1, 21, 40, 37], using: &rng)
        let window = SlidingWindow(roi: [16, 16, 16], overlap: 0.5)
        let predict: (Tensor) -> Tensor = { x in Tensor.concatenate([x * 2, -x], axis: 1) }
        let windowed = window.probabilities(for: image, classes: 2, predict: predict)
        let direct = softmax(predict(image), axis: 1)
        XCTAssertEqual(windowed.shape, direct.shape)
        for i in 0..<direct.count { XCTAssertEqual(windowed[flat: i], direct[flat: i], accuracy: 1e-5) }
    }

    func testGaussianImportancePeaksAtTheCentre() {
        let map = SlidingWindow(roi: [8, 8, 8]).importanceMap()
        XCTAssertEqual(map.max()!, 1, accuracy: 1e-6)
        XCTAssertGreaterThan(map.min()!, 0)
        XCTAssertGreaterThan(map[(3 * 8 + 3) * 8 + 3], map[0])
    }

    func testImagesSmallerThanTheWindowArePaddedAndCropped() {
        var rng = RandomGenerator(seed: 2)
        let image = Tensor.normal([1, 1, 10, 12, 9], using: &rng)
        let result = SlidingWindow(roi: [16, 16, 16]).probabilities(for: image, classes: 2) { x in
            XCTAssertEqual(Array(x.shape[2...]), [16, 16, 16])
            return Tensor.concatenate([x, -x], axis: 1)
        }
        XCTAssertEqual(result.shape, [1, 2, 10, 12, 9])
    }

    func testFlipAveragingOfAnEquivariantModelChangesNothing() {
        var rng = RandomGenerator(seed: 3)
        let image = Tensor.normal([1, 2, 4, 5, 6], using: &rng)
        let averaged = flipAveraged(image) { $0 * 3 }
        for i in 0..<image.count { XCTAssertEqual(averaged[flat: i], 3 * image[flat: i], accuracy: 1e-5) }
    }
}
