import Backbones
import Experiments
import Foundation
import PEFTMethods
import Tensors
import XCTest

/// A training checkpoint feeds the weights, the optimizer state and the history (which goes into the
/// cell record) of a resumed run, so no damaged copy may be accepted: every truncation and every
/// flipped bit, in the header, the metadata or the data, must be refused with the file's path.
final class CheckpointIntegrityTests: XCTestCase {
    private func trainer(folder: URL, epochs: Int) throws -> Trainer {
        var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [16, 16, 16])
        (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = (4, 24, 48, 2)
        let model = try makeBackbone(.unetr(c), seed: 21)
        var rng = RandomGenerator(seed: 21, stream: "method")
        let adaptation = try LoRA().apply(to: model, rng: &rng)
        var settings = TrainingSettings()
        (settings.epochs, settings.validateEvery, settings.keepLast) = (epochs, 0, 1)
        return Trainer(model: model, parameters: adaptation.trainableParameters, settings: settings, classes: 2,
                       window: SlidingWindow(roi: [16, 16, 16]), seed: 21, folder: folder)
    }

    func testEveryDamagedCheckpointIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("integrity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var batches = BlobBatches(size: 16, seed: 22)
        _ = try trainer(folder: folder, epochs: 1).run(batches: &batches, validation: [], iterationsPerEpoch: 1)
        let last = folder.appendingPathComponent("last.safetensors")
        let original = try Data(contentsOf: last)
        let headerEnd = 8 + Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let metadataStart = try XCTUnwrap(original.range(of: Data("\"__metadata__\"".utf8))).lowerBound

        // 60 deterministic mutations: truncations, and single bits flipped in the JSON header, in the
        // metadata (epoch, history, best Dice, optimizer steps) and in the tensor data.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var mutations: [(String, Data)] = []
        for _ in 0..<10 {
            let cut = next(original.count)
            mutations.append(("truncated to \(cut) bytes", original.prefix(cut)))
        }
        for (region, range) in [("header", 0..<headerEnd), ("metadata", metadataStart..<headerEnd),
                                ("data", headerEnd..<original.count)] {
            for _ in 0..<(region == "data" ? 10 : 20) {
                var bytes = original
                let at = range.lowerBound + next(range.count), bit = next(8)
                bytes[at] ^= 1 << bit
                mutations.append(("\(region) byte \(at) bit \(bit)", bytes))
            }
        }
        for (what, bytes) in mutations {
            try bytes.write(to: last)
            var more = BlobBatches(size: 16, seed: 22)
            XCTAssertThrowsError(try trainer(folder: folder, epochs: 2).run(batches: &more, validation: [], iterationsPerEpoch: 1),
                                 "\(what) was accepted") { error in
                XCTAssert("\(error)".contains(last.path), "\(what): \(error)")
            }
        }
    }
}
