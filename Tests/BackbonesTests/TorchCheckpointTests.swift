import Backbones
import Foundation
import Tensors
import TestSupport
import XCTest

/// The native PyTorch checkpoint reader: the shared fixtures (written by torch.save) against their
/// expected safetensors, the authors' layouts loaded strictly into backbones, the hostile pickle, and
/// hand-written pickles for what the fixtures do not hold.
final class TorchCheckpointTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        try SharedData.fixture("checkpoints/\(name)")
    }

    /// Every model tensor equals the expected file's (values, shape), and nothing is missing or extra.
    private func assertMatchesExpected(_ name: String, expected: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> CheckpointModelTensors {
        let checkpoint = try TorchCheckpoint.read(contentsOf: try fixture(name))
        let model = try CheckpointModelTensors(checkpoint)
        let values = try model.values(in: checkpoint)
        let reference = try SafetensorsArchive.read(contentsOf: try fixture(expected))
        XCTAssertEqual(Set(values.keys), Set(reference.names), name, file: file, line: line)
        for entry in reference.entries {
            guard let tensor = values[entry.name] else { continue }
            XCTAssertEqual(tensor.shape, entry.tensor.shape, "\(name): \(entry.name)", file: file, line: line)
            XCTAssertEqual(tensor.values, entry.tensor.values, "\(name): \(entry.name)", file: file, line: line)
        }
        return model
    }

    func testTensorZooEqualsExpected() throws {
        let model = try assertMatchesExpected("tensors-zoo.pt", expected: "tensors-zoo.expected.safetensors")
        let dtypes = Dictionary(uniqueKeysWithValues: model.tensors.map { ($0.name, $0.tensor.dtype) })
        XCTAssertEqual(dtypes["f16"], .F16)
        XCTAssertEqual(dtypes["bf16"], .BF16)
        XCTAssertEqual(dtypes["f64"], .F64)
        XCTAssertEqual(dtypes["i64"], .I64)
        XCTAssertEqual(dtypes["bool"], .BOOL)
        XCTAssertTrue(model.tensors.contains { $0.tensor.shape == [] }, "the 0-d scalar")
        XCTAssertTrue(model.tensors.contains { $0.tensor.elementCount == 0 }, "the empty tensor")
        // The two views of one storage share it.
        let storages = model.tensors.map { ObjectIdentifier($0.tensor.storage) }
        XCTAssertLessThan(Set(storages).count, storages.count)
    }

    func testAuthorsZipAndLegacyCheckpointsEqualExpected() throws {
        let authors = try assertMatchesExpected("unetr-tiny-authors.pth", expected: "unetr-tiny-authors.expected.safetensors")
        XCTAssertEqual(authors.wrapperPath, ["state_dict"])
        XCTAssertEqual(Set(authors.ignoredKeys), ["epoch", "optim_dict"])
        XCTAssertEqual(authors.strippedPrefixes, ["module."])
        XCTAssertEqual(try TorchCheckpoint.read(contentsOf: try fixture("unetr-tiny-authors.pth")).format, .zip)

        let legacy = try assertMatchesExpected("unetr-tiny-legacy.pth", expected: "unetr-tiny-legacy.expected.safetensors")
        XCTAssertEqual(legacy.wrapperPath, [])
        XCTAssertEqual(try TorchCheckpoint.read(contentsOf: try fixture("unetr-tiny-legacy.pth")).format, .legacy)
    }

    /// The authors' layouts load strictly into configs.json's backbones; the norm_cross_attn layers
    /// (MONAI ≥ 1.4, unused by the forward pass) are reported and left at their initialisation.
    func testAuthorsCheckpointsLoadStrictlyIntoTheirBackbones() throws {
        let configs = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture("configs.json"))) as! [String: Any]
        for name in ["unetr-tiny-authors.pth", "swinunetr-tiny-authors.pth", "unetr-tiny-legacy.pth"] {
            let entry = (configs["configs"] as! [String: Any])[name]!
            let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID()).json")
            try JSONSerialization.data(withJSONObject: entry).write(to: configURL)
            defer { try? FileManager.default.removeItem(at: configURL) }
            let config = try BackboneConfig.load(contentsOf: configURL)
            let model = try makeBackbone(config, seed: 3)
            let before = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.values) })
            let leftAtInitialisation = try model.loadCheckpoint(try fixture(name))
            let after = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.values) })
            switch (name, config) {
            case ("unetr-tiny-authors.pth", .unetr):
                XCTAssertEqual(leftAtInitialisation.count, 2 * 12, name)  // weight and bias of each of the 12 ViT blocks
                XCTAssertTrue(leftAtInitialisation.allSatisfy { $0.contains(".norm_cross_attn.") }, name)
            default:
                XCTAssertEqual(leftAtInitialisation, [], name)  // SwinUNETR has none; the legacy file has MONAI 1.6 keys
            }
            for key in leftAtInitialisation { XCTAssertEqual(after[key], before[key], "\(name): \(key) left as initialised") }
            let changed = after.keys.filter { after[$0] != before[$0] }
            XCTAssertGreaterThan(changed.count, after.count / 2, name)
        }
        // A *used* key missing is still an error naming it.
        let config = try BackboneConfig.load(contentsOf: try writeUNETRConfig())
        let checkpoint = try TorchCheckpoint.read(contentsOf: try fixture("unetr-tiny-authors.pth"))
        var tensors = try CheckpointModelTensors(checkpoint).values(in: checkpoint)
        tensors["vit.blocks.0.attn.qkv.weight"] = nil
        XCTAssertThrowsError(try makeBackbone(config).load(checkpoint: tensors, file: "x.pth")) { error in
            XCTAssertTrue("\(error)".contains("missing: vit.blocks.0.attn.qkv.weight"), "\(error)")
        }
    }

    private func writeUNETRConfig() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("unetr-tiny-\(UUID()).json")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try Data("""
        {"backbone": "unetr", "args": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 32], "feature_size": 8,
         "hidden_size": 48, "mlp_dim": 96, "num_heads": 4, "proj_type": "conv", "norm_name": "instance", "res_block": true}}
        """.utf8).write(to: url)
        return url
    }

    func testPickleThatWouldRunCodeIsRefusedAndRunsNothing() throws {
        let marker = "/tmp/hippopeft-evil-ran"
        try? FileManager.default.removeItem(atPath: marker)
        let url = try fixture("evil-reduce.pth")
        XCTAssertThrowsError(try TorchCheckpoint.read(contentsOf: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path) && text.contains("posix.system"), text)
            XCTAssertFalse(text.contains("\n"), "one line")
        }
        XCTAssertThrowsError(try makeBackbone(.unetr(UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [16, 16, 16]))).loadCheckpoint(url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))

        // builtins.eval through protocol 4's STACK_GLOBAL, and INST, are refused too.
        var eval = PickleWriter()
        eval.op(0x8C); eval.op(8); eval.bytes += Array("builtins".utf8)
        eval.op(0x8C); eval.op(4); eval.bytes += Array("eval".utf8)
        eval.op(0x93); eval.string("1+1"); eval.op(0x85); eval.op("R"); eval.stop()
        XCTAssertThrowsError(try TorchCheckpoint.decode(zipCheckpoint(eval.bytes, storages: []), file: "eval.pth")) { error in
            XCTAssertTrue("\(error)".contains("'builtins.eval'"), "\(error)")
        }
        var inst = PickleWriter()
        inst.mark(); inst.op("i"); inst.bytes += Array("os\nsystem\n".utf8); inst.stop()
        XCTAssertThrowsError(try TorchCheckpoint.decode(zipCheckpoint(inst.bytes, storages: []), file: "inst.pth")) { error in
            XCTAssertTrue("\(error)".contains("inst.pth: refused"), "\(error)")
        }
    }

    /// A state_dict of one float64 matrix, its transpose (a strided view of the same storage) and an int32
    /// vector at an offset, under `key` (nil: bare).
    private func handWritten(wrapper: String?, prefix: String = "", legacyView: Bool = false) -> [UInt8] {
        var w = PickleWriter()
        func state(_ w: inout PickleWriter) {
            w.global("collections", "OrderedDict"); w.op(")"); w.op("R")
            w.mark()
            w.string(prefix + "a.weight"); w.tensor(type: "DoubleStorage", key: "0", count: 6, offset: 0, shape: [2, 3], strides: [3, 1])
            w.string(prefix + "a.weight_t"); w.tensor(type: "DoubleStorage", key: "0", count: 6, offset: 0, shape: [3, 2], strides: [1, 3])
            w.string(prefix + "b.index"); w.tensor(type: "IntStorage", key: "1", count: 5, offset: 2, shape: [legacyView ? 2 : 3], strides: [1],
                                                   view: legacyView ? ("1v", 1, 4) : nil)
            w.op("u")
        }
        if let wrapper {
            w.dict([wrapper, "epoch", "optimizer"]) { w, n in
                switch n {
                case 0: state(&w)
                case 1: w.int(7)
                default: w.op("}")
                }
            }
        } else {
            state(&w)
        }
        w.stop()
        return w.bytes
    }

    private let matrix: [Double] = [1.5, -2, 3.25, 4, 5, -6.5]
    private let integers: [Int32] = [10, 11, 12, 13, 14]

    func testHandWrittenCheckpointsOfEitherFormatAndWrapper() throws {
        for wrapper in ["state_dict", "model", "net", "model_dict", nil] as [String?] {
            for zip64 in [false, true] {
                let data = zipCheckpoint(handWritten(wrapper: wrapper, prefix: "module."),
                                         storages: [("0", doubleBytes(matrix)), ("1", littleEndianBytes(integers))], zip64: zip64)
                let checkpoint = try TorchCheckpoint.decode(data, file: "hand.pth")
                let model = try CheckpointModelTensors(checkpoint)
                XCTAssertEqual(model.wrapperPath, wrapper.map { [$0] } ?? [])
                XCTAssertEqual(model.strippedPrefixes, ["module."])
                let values = try model.values(in: checkpoint)
                XCTAssertEqual(values["a.weight"]?.values, matrix.map(Float.init))
                XCTAssertEqual(values["a.weight_t"]?.shape, [3, 2])
                XCTAssertEqual(values["a.weight_t"]?.values, [1.5, 4, -2, 5, 3.25, -6.5])
                XCTAssertEqual(values["b.index"]?.values, [12, 13, 14])
                XCTAssertEqual(model.tensors.first { $0.name == "b.index" }?.tensor.dtype, .I32)
            }
        }
        // The legacy format, with an old-style storage view (elements 1..<5 of storage "1", tensor at offset 2 of it).
        let legacy = legacyCheckpoint(handWritten(wrapper: "state_dict", legacyView: true),
                                      storages: [("0", 6, doubleBytes(matrix)), ("1", 5, littleEndianBytes(integers))])
        let checkpoint = try TorchCheckpoint.decode(legacy, file: "legacy.pth")
        XCTAssertEqual(checkpoint.format, .legacy)
        let values = try CheckpointModelTensors(checkpoint).values(in: checkpoint)
        XCTAssertEqual(values["a.weight_t"]?.values, [1.5, 4, -2, 5, 3.25, -6.5])
        XCTAssertEqual(values["b.index"]?.values, [13, 14])
    }

    func testInconsistentCheckpointsAreRefusedNamingTheFile() throws {
        func refused(_ data: Data, _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try {
                let checkpoint = try TorchCheckpoint.decode(data, file: "bad.pth")
                _ = try CheckpointModelTensors(checkpoint).values(in: checkpoint)
            }(), line: line) { error in
                XCTAssertTrue("\(error)".hasPrefix("bad.pth") && "\(error)".contains(expected), "\(error)", line: line)
            }
        }
        let good = handWritten(wrapper: nil)
        // A storage shorter than the pickle says, a view past its storage, an expanded view, a compressed entry.
        refused(zipCheckpoint(good, storages: [("0", doubleBytes(matrix).dropLast(8)), ("1", littleEndianBytes(integers))]), "storage '0'")
        var past = PickleWriter()
        past.dict(["w"]) { w, _ in w.tensor(type: "FloatStorage", key: "0", count: 4, offset: 2, shape: [2, 2], strides: [2, 1]) }
        past.stop()
        refused(zipCheckpoint(past.bytes, storages: [("0", floatBytes([1, 2, 3, 4]))]), "reaches element")
        var expanded = PickleWriter()
        expanded.dict(["w"]) { w, _ in w.tensor(type: "FloatStorage", key: "0", count: 1, offset: 0, shape: [1000, 1000], strides: [0, 0]) }
        expanded.stop()
        refused(zipCheckpoint(expanded.bytes, storages: [("0", floatBytes([1]))]), "expanded")
        refused(Data(storedZip([("archive/data.pkl", good)], method: 8)), "compressed")
        refused(Data("not a checkpoint".utf8), "not a PyTorch checkpoint")
        var noTensors = PickleWriter()
        noTensors.dict(["epoch"]) { w, _ in w.int(3) }
        noTensors.stop()
        refused(zipCheckpoint(noTensors.bytes, storages: []), "no model weights")
    }

    /// Truncated and bit-flipped checkpoints either read or fail with an error; never a crash.
    func testCorruptedCheckpointsNeverCrash() throws {
        let sources = [zipCheckpoint(handWritten(wrapper: "model"), storages: [("0", doubleBytes(matrix)), ("1", littleEndianBytes(integers))]),
                       legacyCheckpoint(handWritten(wrapper: "model", legacyView: true),
                                        storages: [("0", 6, doubleBytes(matrix)), ("1", 5, littleEndianBytes(integers))])]
        var rng = RandomGenerator(seed: 5)
        var accepted = 0, refused = 0
        for source in sources {
            for trial in 0..<400 {
                var data = source
                if trial % 4 == 0 {
                    data = data.prefix(Int(rng.next() % UInt64(data.count)))
                } else {
                    for _ in 0...(trial % 3) {
                        let at = Int(rng.next() % UInt64(data.count))
                        data[at] ^= UInt8(1 << (rng.next() % 8))
                    }
                }
                do {
                    let checkpoint = try TorchCheckpoint.decode(data, file: "fuzz.pth")
                    _ = try CheckpointModelTensors(checkpoint).values(in: checkpoint)
                    accepted += 1
                } catch is TorchCheckpointError {
                    refused += 1
                } catch is SafetensorsError {
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(refused, 100)
        XCTAssertGreaterThan(accepted, 10)
    }
}
