import Backbones
import Foundation
import PEFTMethods
import Tensors
import TestSupport
import Volumes
import XCTest
@testable import Experiments

/// Self-supervised pre-training (masked-volume inpainting): it reads the images of the training pool
/// and nothing else, it learns to reconstruct images it never saw, the cells start from all its
/// weights but its one-channel output block, and its objective and options enter the cell keys.
final class SelfSupervisedPretrainingTests: XCTestCase {
    static let unetr = "{in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, "
        + "mlp_dim: 48, num_heads: 2}"

    /// A sweep whose stage pre-trains on the training pool of its one data set, `dataset` (YAML).
    static func spec(dataset: String, inpainting: String = "", epochs: Int = 1) -> String {
        """
        name: ssl-test
        backbone:
          name: unetr
          args: \(unetr)
          pretrained: pretraining
        pretraining:
          objective: self_supervised
          dataset: toy
          \(inpainting)
          training: {epochs: \(epochs), iterations_per_epoch: 2, batch_size: 2, patch_size: [16, 16, 16], validate_every: 0, keep_last: 1}
        datasets:
          - \(dataset)
        budgets: [2]
        methods: [full]
        training: {epochs: 1, batch_size: 2, validate_every: 0, keep_last: 1}
        """
    }

    static let synthetic = "{name: toy, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 8}, "
        + "split: {validation: 2, test: 2, seed: 0}}"

    // MARK: (a) only the training pool's images are read

    /// An MSD folder whose validation and test images, and every label, are not NIfTI at all: the
    /// stage must succeed, so it opened none of them.
    func testTheStageReadsOnlyTheImagesOfTheTrainingPool() throws {
        let folder = try TemporaryFolder(prefix: "ssl-pool")
        let ids = (0..<8).map { "case_\($0)" }
        let generator = SyntheticSpec(kind: .hippocampus, style: .harp, subjects: ids.count)
        for (n, id) in ids.enumerated() {
            try NIfTI.write(try SyntheticData.generate(generator, index: n).image, to: try folder.prepare("msd/imagesTr/\(id).nii.gz"))
            try Data("not a label".utf8).write(to: try folder.prepare("msd/labelsTr/\(id).nii.gz"))
        }
        let entries = ids.map { "{\"image\": \"./imagesTr/\($0).nii.gz\", \"label\": \"./labelsTr/\($0).nii.gz\"}" }
        try folder.writeText("{\"training\": [\(entries.joined(separator: ", "))]}", to: "msd/dataset.json")
        let dataset = "{name: toy, layout: msd, root: \(folder.file("msd").path), split: {validation: 2, test: 2, seed: 0}}"
        let spec = try SpecLoader.parse(Self.spec(dataset: dataset))
        let runner = SweepRunner(spec: spec, store: ResultStore(root: folder.file("results")), progress: ProgressPrinter(enabled: false))

        // The stage's data set is the spec's entry, split as the cells split it.
        XCTAssertEqual(spec.pretraining?.dataset, spec.datasets[0])
        let splits = try runner.dataset(spec.datasets[0]).splits
        let heldOut = splits.validation + splits.test
        XCTAssertEqual(heldOut.count, 4)
        XCTAssertEqual(splits.trainingPool.count, 4)
        for id in heldOut {
            try Data("not an image".utf8).write(to: folder.file("msd/imagesTr/\(id).nii.gz"))
        }
        // The corruption is real: reading a held-out case fails.
        XCTAssertThrowsError(try runner.dataset(spec.datasets[0]).prepared(heldOut[0]))

        let weights = try XCTUnwrap(try runner.weights(for: spec.backbones[0]))
        let saved = try ModelWeightsFile.read(contentsOf: weights)
        XCTAssertEqual(saved["out.conv.conv.weight"]?.shape.first, 1, "the source reconstructs one channel")
    }

    // MARK: (b) it learns to reconstruct images it never trained on

    func testTrainingLowersTheReconstructionErrorOnHeldBackImages() throws {
        let spec = try SpecLoader.parse(Self.spec(dataset: Self.synthetic, epochs: 12))
        let stage = try XCTUnwrap(spec.pretraining)
        let dataset = try Dataset(spec: stage.dataset)
        let images = try dataset.trainingPoolImages()
        // Held back: the validation cases, which the stage never reads.
        let heldBack = try dataset.prepared(dataset.splits.validation)
        XCTAssertTrue(Set(heldBack.map(\.id)).isDisjoint(with: images.map(\.id)))

        var training = stage.training
        training.iterationsPerEpoch = 10
        training.learningRate = 3e-3
        let pipeline = try CellPipeline(backbone: spec.backbones[0].config.withOutChannels(1), method: FullFineTuning(),
                                        seed: 0, startingWeights: nil, training: training)
        let adaptation = try pipeline.makeModel()
        let patch = pipeline.patchSize
        func score() -> MaskedInpainting.Score {
            MaskedInpainting.score(adaptation.model, cases: heldBack, patchSize: patch, options: stage.inpainting, seed: 1)
        }
        let before = score()
        XCTAssertEqual(score(), before, "the held-back masks are fixed: scoring twice gives one number")
        let outcome = try pipeline.trainInpainting(adaptation, images: images, options: stage.inpainting, folder: nil)
        let after = score()
        print("held-back L1, masked voxels \(before.masked) → \(after.masked), whole crop \(before.volume) → \(after.volume); "
              + "training loss (masked voxels) \(outcome.history.first!.meanLoss) → \(outcome.history.last!.meanLoss)")
        // Scoring is deterministic (the same masks, no dropout), so any change is training's, and a
        // drop by a quarter is learning to inpaint, not the wobble of an untrained network.
        XCTAssertLessThan(after.masked, 0.75 * before.masked)
    }

    func testTheL1LossAveragesOverTheMaskedVoxelsOrAll() {
        let prediction = Tensor([1, -2, 5, 0], shape: [1, 1, 2, 2]), target = Tensor(zeros: [1, 1, 2, 2])
        let mask = Tensor([1, 1, 0, 0], shape: [1, 1, 2, 2])
        XCTAssertEqual(l1Loss(prediction: prediction, target: target, mask: mask).scalar, 1.5)
        XCTAssertEqual(l1Loss(prediction: prediction, target: target).scalar, 2)
        // A batch's label carries the crop and its mask; split gives them back.
        let label = Tensor([1, 2, 3, 4, 0, 1, 1, 0], shape: [1, 2, 2, 2])
        let (crop, voxels) = InpaintingBatches.split(label)
        XCTAssertEqual(crop.values, [1, 2, 3, 4])
        XCTAssertEqual(voxels.values, [0, 1, 1, 0])
    }

    /// Masks cover the drawn fraction of a crop, within `mask_fraction`, with noise in the boxes.
    func testAMaskCoversTheDrawnFractionOfTheCrop() {
        var options = InpaintingOptions()
        options.maskFraction = [0.2, 0.3]
        var rng = RandomGenerator(seed: 3, stream: "test")
        let size = [16, 24, 16], count = size.reduce(1, *)
        for _ in 0..<20 {
            var voxels = [Float](repeating: 7, count: count)
            let masked = voxels.withUnsafeMutableBufferPointer {
                MaskedInpainting.mask($0.baseAddress!, size: size, options: options, rng: &rng)
            }
            let fraction = Double(masked.filter { $0 }.count) / Double(count)
            XCTAssertGreaterThanOrEqual(fraction, 0.2)
            XCTAssertLessThanOrEqual(fraction, 0.3 + 0.25 * 0.25 * 0.25 + 1 / Double(count), "at most one box past the drawn fraction")
            XCTAssertTrue(zip(voxels, masked).allSatisfy { $1 ? $0 != 7 : $0 == 7 }, "noise where masked, the image elsewhere")
        }
    }

    // MARK: (c) the cells start from every weight but the output block

    func testACellLoadsEveryWeightOfTheSourceButItsOutputBlock() throws {
        let folder = try TemporaryFolder(prefix: "ssl-load")
        let spec = try SpecLoader.parse(Self.spec(dataset: Self.synthetic))
        let config = spec.backbones[0].config
        let url = folder.file("source.safetensors")
        try makeBackbone(config.withOutChannels(1), seed: 7).saveCheckpoint(url)
        let source = try ModelWeightsFile.read(contentsOf: url)

        let cell = try CellPipeline(backbone: config, method: FullFineTuning(), seed: 0, startingWeights: url,
                                    training: TrainingSettings()).makeModel().model
        let initial = Dictionary(try makeBackbone(config, seed: 0).stateDict().map { ($0.name, $0.tensor.values) },
                                 uniquingKeysWith: { a, _ in a })
        var loaded = 0
        for (name, tensor) in cell.stateDict().map({ ($0.name, $0.tensor) }) {
            if name.hasPrefix("out.") {
                XCTAssertEqual(tensor.values, initial[name], "\(name) keeps the cell's own initialisation")
            } else {
                let saved = try XCTUnwrap(source[name], name)
                XCTAssertEqual(tensor.values, saved.values, "\(name) is the source's")
                loaded += saved.values != initial[name] ? 1 : 0
            }
        }
        XCTAssertGreaterThan(loaded, 10, "the source differs from the cell's initialisation, so equal means loaded")
        XCTAssertEqual(cell.stateDict().first { $0.name == "out.conv.conv.weight" }?.tensor.shape.first, 2)
        let skipped = try CellPipeline.loadStartingWeights(url, into: try makeBackbone(config, seed: 0))
        XCTAssertEqual(skipped, source.keys.filter { $0.hasPrefix("out.") }.sorted())
        XCTAssertFalse(skipped.isEmpty)
    }

    // MARK: the stage's identity

    func testTheObjectiveAndItsOptionsEnterTheCellKeys() throws {
        func keys(_ text: String) throws -> [String] {
            let folder = try TemporaryFolder(prefix: "ssl-keys")
            let runner = SweepRunner(spec: try SpecLoader.parse(text), store: ResultStore(root: folder.file("results")),
                                     progress: ProgressPrinter(enabled: false))
            return try runner.cells().map(\.key)
        }
        let base = try keys(Self.spec(dataset: Self.synthetic))
        XCTAssertEqual(try keys(Self.spec(dataset: Self.synthetic)), base)
        XCTAssertNotEqual(try keys(Self.spec(dataset: Self.synthetic, inpainting: "inpainting: {mask_fraction: [0.1, 0.5]}")), base)
        XCTAssertNotEqual(try keys(Self.spec(dataset: Self.synthetic, inpainting: "inpainting: {fill: zero}")), base)
        let supervised = Self.spec(dataset: Self.synthetic).replacingOccurrences(of: "objective: self_supervised", with: "")
        XCTAssertNotEqual(try keys(supervised), base)

        // A supervised stage is encoded as it always was, so existing specs keep their cell keys.
        let stage = try XCTUnwrap(try SpecLoader.parse(supervised).pretraining)
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(stage)) as? [String: Any]
        XCTAssertEqual(json.map { Set($0.keys) }, Set(["dataset", "training", "seed"]))
    }

    func testAStageNamingAnUnknownDataSetIsRefusedInOneLine() {
        let text = Self.spec(dataset: Self.synthetic).replacingOccurrences(of: "dataset: toy", with: "dataset: toys")
        XCTAssertThrowsError(try SpecLoader.parse(text)) { error in
            XCTAssertTrue("\(error)".contains("pretraining.dataset names 'toys', which is not in datasets: (toy)"), "\(error)")
        }
        let misplaced = Self.spec(dataset: Self.synthetic, inpainting: "inpainting: {fill: zero}")
            .replacingOccurrences(of: "objective: self_supervised", with: "")
        XCTAssertThrowsError(try SpecLoader.parse(misplaced)) { error in
            XCTAssertTrue("\(error)".contains("need `objective: self_supervised`"), "\(error)")
        }
    }
}
