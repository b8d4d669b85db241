import Foundation
import XCTest
import Tensors
import TestSupport

final class SafetensorsTests: XCTestCase {

    // MARK: Helpers

    func fixture(_ model: String, _ file: String) throws -> URL {
        try SharedData.fixture("parity/\(model)/\(file)")
    }

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// Writes a raw file: header length (or an override), header text, data bytes.
    func rawFile(_ name: String, header: String, data: [UInt8] = [], headerLength: UInt64? = nil) throws -> URL {
        var bytes: [UInt8] = []
        let headerBytes = Array(header.utf8)
        let length = headerLength ?? UInt64(headerBytes.count)
        withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
        bytes += headerBytes
        bytes += data
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func readError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> SafetensorsError? {
        do {
            _ = try SafetensorsArchive.read(contentsOf: url)
            XCTFail("\(url.lastPathComponent) was read without error", file: file, line: line)
            return nil
        } catch let error as SafetensorsError {
            let text = error.description
            XCTAssertTrue(text.contains(url.path), "error does not name the file: \(text)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "error is not one line: \(text)", file: file, line: line)
            print("  \(url.lastPathComponent): \(text)")
            return error
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float = 0, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) where abs(x - y) > tolerance {
            XCTFail("\(a) != \(b)", file: file, line: line)
            return
        }
    }

    // MARK: The parity fixtures (written by Python's safetensors)

    func testUNETRFixtureWeights() throws {
        let archive = try SafetensorsArchive.read(contentsOf: try fixture("unetr-tiny", "weights.safetensors"))
        XCTAssertEqual(archive.entries.count, 194)
        XCTAssertTrue(archive.entries.allSatisfy { $0.dtype == .F32 })
        XCTAssertEqual(archive.entries.first?.name, "decoder2.conv_block.conv1.conv.weight")  // offset 0

        let qkv = try XCTUnwrap(archive["vit.blocks.0.attn.qkv.weight"])
        XCTAssertEqual(qkv.shape, [144, 48])
        XCTAssertEqual(Array(qkv.values.prefix(3)), [-0.027660870924592018, 0.1119924783706665, -0.10662125051021576])
        XCTAssertEqual(qkv.values.last, 0.08187641203403473)

        let position = try XCTUnwrap(archive["vit.patch_embedding.position_embeddings"])
        XCTAssertEqual(position.shape, [1, 8, 48])
        XCTAssertEqual(Array(position.values.prefix(3)), [-0.021246472373604774, 0.035232335329055786, -0.009093587286770344])

        XCTAssertEqual(archive["out.conv.conv.bias"]?.values, [0.12172330915927887, 0.040885359048843384])
        XCTAssertEqual(archive["vit.norm.weight"]?.shape, [48])
        XCTAssertEqual(archive["decoder2.transp_conv.conv.weight"]?.shape, [16, 8, 2, 2, 2])
        XCTAssertNil(archive["no.such.parameter"])
    }

    func testUNETRFixtureInputsAndExpected() throws {
        let io = try SafetensorsArchive.read(contentsOf: try fixture("unetr-tiny", "io.safetensors"))
        XCTAssertEqual(io.names, ["grad_output", "input"])
        let input = try XCTUnwrap(io["input"])
        XCTAssertEqual(input.shape, [1, 1, 32, 32, 32])
        XCTAssertEqual(Array(input.values.prefix(3)), [-0.6339073777198792, -0.6097069382667542, 1.5900211334228516])
        XCTAssertEqual(input.values.last, 1.9449011087417603)
        XCTAssertEqual(io["grad_output"]?.shape, [1, 2, 32, 32, 32])

        let expected = try SafetensorsArchive.read(contentsOf: try fixture("unetr-tiny", "expected.safetensors"))
        XCTAssertEqual(expected.entries.count, 196)
        let logits = try XCTUnwrap(expected["logits"])
        XCTAssertEqual(logits.shape, [1, 2, 32, 32, 32])
        XCTAssertEqual(Array(logits.values.prefix(3)), [0.3394032120704651, 0.058892492204904556, 0.2791217863559723])
        XCTAssertEqual(expected["grad_input"]?.values.last, -0.9143701791763306)
        XCTAssertEqual(expected["grad.vit.blocks.0.attn.qkv.weight"]?.shape, [144, 48])
    }

    func testSwinUNETRFixtureWeights() throws {
        let url = try fixture("swinunetr-tiny", "weights.safetensors")
        _ = try SafetensorsArchive.read(contentsOf: url)  // warm the page cache
        var best = Double.infinity
        var archive: SafetensorsArchive!
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            archive = try SafetensorsArchive.read(contentsOf: url)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        print(String(format: "swinunetr-tiny/weights.safetensors (%.1f MB, %d tensors): best of 3 loads %.1f ms (printed, never asserted)",
                     Double(size) / 1e6, archive.entries.count, best * 1e3))

        XCTAssertEqual(archive.entries.count, 159)
        XCTAssertEqual(archive.entries.reduce(0) { $0 + $1.tensor.count }, 5_019_256)
        let indices = archive.entries.filter { $0.name.hasSuffix("relative_position_index") }
        XCTAssertEqual(indices.count, 8)
        XCTAssertTrue(indices.allSatisfy { $0.dtype == .I64 })
        XCTAssertEqual(archive.entries.filter { $0.dtype == .F32 }.count, 151)

        let index = try XCTUnwrap(archive["swinViT.layers1.0.blocks.0.attn.relative_position_index"])
        XCTAssertEqual(index.shape, [343, 343])
        XCTAssertEqual(Array(index.values.prefix(5)), [1098, 1097, 1096, 1095, 1094])
        XCTAssertEqual(Array(index.values.suffix(3)), [1100, 1099, 1098])
        XCTAssertEqual(index[flat: 100 * 343 + 200], 758)
        XCTAssertEqual(index.values.min(), 0)
        XCTAssertEqual(index.values.max(), 2196)
        XCTAssertEqual(index.values.reduce(0.0) { $0 + Double($1) }, 129_178_602)
        XCTAssertTrue(index.values.allSatisfy { $0 == $0.rounded() })

        let table = try XCTUnwrap(archive["swinViT.layers1.0.blocks.0.attn.relative_position_bias_table"])
        XCTAssertEqual(table.shape, [2197, 3])
        XCTAssertEqual(Array(table.values.prefix(3)), [-0.012500263750553131, -0.004383566323667765, 0.025301268324255943])
    }

    func testFixtureRewrittenIsIdentical() throws {
        // Reading then writing the swinunetr weights (F32 + I64) reproduces every tensor and dtype.
        let original = try SafetensorsArchive.read(contentsOf: try fixture("swinunetr-tiny", "weights.safetensors"))
        let url = folder.appendingPathComponent("copy.safetensors")
        try original.write(to: url)
        let copy = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(copy.names, original.names)
        for (a, b) in zip(original.entries, copy.entries) {
            XCTAssertEqual(a.dtype, b.dtype)
            XCTAssertEqual(a.tensor.shape, b.tensor.shape)
            XCTAssertTrue(a.tensor.values == b.tensor.values, a.name)
        }
    }

    // MARK: Round trips

    func testRoundTripOfEveryDType() throws {
        let exact: [Float] = [0, 1, -2, 3, 100, -128, 127, 0.5, -0.25]
        var entries: [SafetensorsEntry] = []
        for dtype in SafetensorsDType.allCases {
            let values: [Float]
            switch dtype {
            case .U8: values = [0, 1, 2, 255, 128, 7]
            case .BOOL: values = [0, 1, 1, 0]
            case .I8: values = [0, 1, -2, 127, -128]
            case .I16: values = [0, 1, -2, 32767, -32768]
            case .I32, .I64: values = [0, 1, -2, 16_777_216, -16_777_216, 123_456]
            case .F16: values = exact + [65504, 0x1p-24, -.infinity]
            case .BF16: values = exact + [3.140625, 0x1p100, .infinity]
            case .F64, .F32: values = exact + [0.1, 1e-30, 3.4e38, .pi]
            }
            entries.append(SafetensorsEntry(name: "t.\(dtype.rawValue)", tensor: Tensor(values, shape: [values.count]), dtype: dtype))
        }
        entries.append(SafetensorsEntry(name: "scalar", tensor: Tensor(scalar: 42), dtype: .F32))
        entries.append(SafetensorsEntry(name: "empty", tensor: Tensor(zeros: [0, 3]), dtype: .F32))
        entries.append(SafetensorsEntry(name: "volume", tensor: Tensor((0..<24).map(Float.init), shape: [1, 2, 3, 4]), dtype: .F16))
        entries.append(SafetensorsEntry(name: "ünïcode \"quoted\"\n", tensor: Tensor([1, 2], shape: [2]), dtype: .F32))
        let metadata = ["format": "pt", "note": "round trip ✓ \"q\""]
        let url = folder.appendingPathComponent("all.safetensors")
        try SafetensorsArchive(entries: entries, metadata: metadata).write(to: url)

        // The data section starts at a multiple of 8, as Python's writer does.
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        XCTAssertEqual(headerLength % 8, 0)

        let archive = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(archive.metadata, metadata)
        XCTAssertEqual(archive.names, entries.map(\.name))
        for (written, read) in zip(entries, archive.entries) {
            XCTAssertEqual(read.dtype, written.dtype, written.name)
            XCTAssertEqual(read.tensor.shape, written.tensor.shape, written.name)
            XCTAssertEqual(read.tensor.values, written.tensor.values, written.name)
        }
    }

    func testConversionsRoundAsDocumented() throws {
        let values: [Float] = [0.1, 1.0 / 3, 2.5, 3.5, -2.5, 70000, .nan]
        var entries: [SafetensorsEntry] = []
        for dtype in [SafetensorsDType.F16, .BF16, .F64] {
            entries.append(.init(name: dtype.rawValue, tensor: Tensor(values, shape: [values.count]), dtype: dtype))
        }
        entries.append(.init(name: "I32", tensor: Tensor([2.5, 3.5, -2.5, 0.49, 1e6 + 0.75], shape: [5]), dtype: .I32))
        entries.append(.init(name: "BOOL", tensor: Tensor([0, -0.0, 0.1, -3, .nan], shape: [5]), dtype: .BOOL))
        let url = folder.appendingPathComponent("conversions.safetensors")
        try SafetensorsArchive(entries: entries).write(to: url)
        let archive = try SafetensorsArchive.read(contentsOf: url)

        let f16 = try XCTUnwrap(archive["F16"]).values
        XCTAssertEqual(Array(f16.prefix(6)), values.prefix(6).map { Float(Float16($0)) })
        XCTAssertEqual(f16[5], .infinity)  // above Float16's 65504
        XCTAssertTrue(f16[6].isNaN)
        let bf16 = try XCTUnwrap(archive["BF16"]).values
        XCTAssertEqual(bf16[0], 0.10009765625)  // 0x3DCD, the nearest bfloat16 to 0.1
        XCTAssertEqual(bf16[2], 2.5)
        XCTAssertEqual(bf16[5], 70144)
        XCTAssertTrue(bf16[6].isNaN)
        let f64 = try XCTUnwrap(archive["F64"]).values
        XCTAssertEqual(Array(f64.prefix(6)), Array(values.prefix(6)))
        XCTAssertEqual(archive["I32"]?.values, [2, 4, -2, 0, 1_000_001])  // ties to even
        XCTAssertEqual(archive["BOOL"]?.values, [0, 0, 1, 1, 1])
    }

    func testReadsHandMadeHalfPrecisionBits() throws {
        // Bit patterns written by hand, independent of our writer.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x3555]
        let bf16: [UInt16] = [0x3F80, 0x4049, 0xC2F7, 0x0000, 0xFF80]
        let f64: [UInt64] = [Double(0.1).bitPattern, Double(-1e300).bitPattern]
        let header = #"{"a":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"#
            + #""b":{"dtype":"BF16","shape":[5],"data_offsets":[12,22]},"#
            + #""c":{"dtype":"F64","shape":[2],"data_offsets":[22,38]},"__metadata__":{"k":"v"}}"#
        let url = try rawFile("half.safetensors", header: header, data: bytes(f16) + bytes(bf16) + bytes(f64))
        let archive = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(archive["a"]?.shape, [2, 3])
        XCTAssertEqual(archive["a"]?.values, [1, -2, 65504, 0x1p-24, .infinity, 0.333251953125])
        XCTAssertEqual(archive["b"]?.values, [1, 3.140625, -123.5, 0, -.infinity])
        XCTAssertEqual(archive["c"]?.values, [0.1, -.infinity])
        XCTAssertEqual(archive.entries.map(\.dtype), [.F16, .BF16, .F64])
        XCTAssertEqual(archive.metadata, ["k": "v"])
    }

    func testEntriesComeInDataOrderNotHeaderOrder() throws {
        let header = #"{"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},"#
            + #""m":{"dtype":"I16","shape":[1],"data_offsets":[1,3]},"e":{"dtype":"F32","shape":[0],"data_offsets":[5,5]}}  "#
        let url = try rawFile("order.safetensors", header: header, data: [9, 0xFF, 0xFF, 4, 5])
        let archive = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(archive.names, ["z", "m", "a", "e"])
        XCTAssertEqual(archive["m"]?.values, [-1])
        XCTAssertEqual(archive["a"]?.values, [4, 5])
        XCTAssertEqual(archive["e"]?.shape, [0])
    }

    func testIntegersBeyondFloat32PrecisionAreRefused() throws {
        let ok = try rawFile("ok.safetensors", header: #"{"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
                             data: bytes([Int64(1 << 24), -Int64(1 << 24)]))
        XCTAssertEqual(try SafetensorsArchive.read(contentsOf: ok)["i"]?.values, [16_777_216, -16_777_216])

        let big = try rawFile("big.safetensors", header: #"{"idx":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
                              data: bytes([Int64(3), Int64(1 << 24) + 1]))
        guard case .valueNotRepresentable(_, "idx", .I64, _)? = readError(big) else { return XCTFail("wrong case") }

        let big32 = try rawFile("big32.safetensors", header: #"{"n":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#,
                                data: bytes([Int32.min]))
        guard case .valueNotRepresentable(_, "n", .I32, _)? = readError(big32) else { return XCTFail("wrong case") }
    }

    func testWriteRefusesUnrepresentableValuesAndDuplicates() throws {
        let url = folder.appendingPathComponent("w.safetensors")
        let cases: [(SafetensorsEntry, String)] = [
            (.init(name: "i8", tensor: Tensor([200], shape: [1]), dtype: .I8), "i8"),
            (.init(name: "u8", tensor: Tensor([-1], shape: [1]), dtype: .U8), "u8"),
            (.init(name: "i64", tensor: Tensor([.nan], shape: [1]), dtype: .I64), "i64"),
            (.init(name: "i32", tensor: Tensor([.infinity], shape: [1]), dtype: .I32), "i32"),
        ]
        for (entry, name) in cases {
            XCTAssertThrowsError(try SafetensorsArchive(entries: [entry]).write(to: url)) { error in
                guard case .valueNotRepresentable(_, name, _, _)? = error as? SafetensorsError else {
                    return XCTFail("\(error)")
                }
            }
        }
        let a = SafetensorsEntry(name: "x", tensor: Tensor([1], shape: [1]))
        XCTAssertThrowsError(try SafetensorsArchive(entries: [a, a]).write(to: url)) { error in
            XCTAssertEqual(error as? SafetensorsError, .duplicateName(file: url.path, tensor: "x"))
        }
        let reserved = SafetensorsEntry(name: "__metadata__", tensor: Tensor([1], shape: [1]))
        XCTAssertThrowsError(try SafetensorsArchive(entries: [reserved]).write(to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        // Nothing but what we wrote is left in the folder: failed writes remove their temporary file.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testWriteReplacesAtomically() throws {
        let url = folder.appendingPathComponent("ckpt.safetensors")
        try SafetensorsArchive(entries: [.init(name: "w", tensor: Tensor([1, 2, 3], shape: [3]))]).write(to: url)
        try SafetensorsArchive(entries: [.init(name: "w", tensor: Tensor([4, 5], shape: [2]))], metadata: ["step": "2"]).write(to: url)
        let archive = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(archive["w"]?.values, [4, 5])
        XCTAssertEqual(archive.metadata, ["step": "2"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["ckpt.safetensors"])

        let missingFolder = folder.appendingPathComponent("no/such/folder/x.safetensors")
        XCTAssertThrowsError(try archive.write(to: missingFolder)) { error in
            guard case .cannotWrite(let file, _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missingFolder.path)
        }
    }

    func testLargeCheckpointRoundTrips() throws {
        // ~90 MB of F32, the size of a full-scale UNETR checkpoint.
        let elements = 90_000_000 / 4 / 4
        var entries: [SafetensorsEntry] = []
        for k in 0..<4 {
            let tensor = Tensor(uninitialized: [elements])
            for i in 0..<elements { tensor.pointer[i] = Float(i % 1000) * 0.001 + Float(k) }
            entries.append(.init(name: "layer\(k).weight", tensor: tensor))
        }
        let url = folder.appendingPathComponent("large.safetensors")
        try SafetensorsArchive(entries: entries).write(to: url)
        // (Load time is a benchmark, not a test: see docs/PERFORMANCE.md.)
        let archive = try SafetensorsArchive.read(contentsOf: url)
        XCTAssertEqual(archive.entries.map(\.tensor.count), Array(repeating: elements, count: 4))
        XCTAssertEqual(archive["layer3.weight"]?[flat: 1234], Float(234) * 0.001 + 3)
    }

    // MARK: Malformed files: each gives its own error case

    func testMalformedFiles() throws {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)

        // Missing, too short, empty.
        guard case .cannotRead? = readError(folder.appendingPathComponent("missing.safetensors")) else { return XCTFail() }
        guard case .cannotRead? = readError(folder) else { return XCTFail() }
        let empty = folder.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        guard case .fileTooShort(_, 0)? = readError(empty) else { return XCTFail() }
        let short = folder.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        guard case .fileTooShort(_, 3)? = readError(short) else { return XCTFail() }

        // Absurd header lengths: refused before allocating anything.
        let huge = try rawFile("huge.safetensors", header: good, data: eight, headerLength: UInt64.max)
        guard case .headerLengthInvalid? = readError(huge) else { return XCTFail() }
        let beyond = try rawFile("beyond.safetensors", header: good, data: eight, headerLength: 1000)
        guard case .headerLengthInvalid(_, 1000, _)? = readError(beyond) else { return XCTFail() }
        let tooBig = try rawFile("toobig.safetensors", header: good, data: eight, headerLength: 200_000_000)
        guard case .headerLengthInvalid(_, 200_000_000, _)? = readError(tooBig) else { return XCTFail() }

        // Not JSON, not an object, bad fields.
        for (name, header) in [("garbage", "this is not json"), ("truncated-json", #"{"w":{"dtype":"F32""#),
                               ("trailing", good + "x"), ("deep", String(repeating: "[", count: 10_000)),
                               ("badutf8", "{\"\u{FFFD}\":1}")] {
            var url = try rawFile("\(name).safetensors", header: header, data: eight)
            if name == "badutf8" {  // replace the replacement character by a lone continuation byte
                var data = try Data(contentsOf: url)
                let range = try XCTUnwrap(data.range(of: Data("\u{FFFD}".utf8)))
                data.replaceSubrange(range, with: [0x80, 0x20, 0x20])
                url = folder.appendingPathComponent("badutf8b.safetensors")
                try data.write(to: url)
            }
            guard case .malformedHeader? = readError(url) else { return XCTFail(name) }
        }
        for (name, header) in [("array", "[1,2,3]"), ("string", #""w""#),
                               ("entry-not-object", #"{"w":5}"#),
                               ("no-dtype", #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#),
                               ("no-offsets", #"{"w":{"dtype":"F32","shape":[2]}}"#),
                               ("float-offsets", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}"#),
                               ("three-offsets", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#),
                               ("metadata-number", #"{"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#)] {
            let url = try rawFile("\(name).safetensors", header: header, data: eight)
            guard case .malformedHeader? = readError(url) else { return XCTFail(name) }
        }

        // Unknown dtype.
        let unknown = try rawFile("unknown.safetensors", header: #"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: eight)
        guard case .unknownDType(_, "w", "C64")? = readError(unknown) else { return XCTFail() }

        // Shapes: negative, overflowing, not integers.
        for (name, shape) in [("negative", "[-2,-1]"), ("overflow", "[4294967296,4294967296,4]"),
                              ("byte-overflow", "[2305843009213693952,2]"), ("huge-dim", "[1e400]"),
                              ("dim-too-large", "[99999999999999999999]")] {
            let url = try rawFile("\(name).safetensors", header: #"{"w":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,8]}}"#, data: eight)
            guard case .invalidShape(_, "w", _)? = readError(url) else { return XCTFail(name) }
        }

        // Size disagrees with shape × dtype.
        let mismatch = try rawFile("mismatch.safetensors", header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)
        guard case .sizeMismatch(_, "w", [3], .F32, 12, 8)? = readError(mismatch) else { return XCTFail() }

        // Offsets outside the data section (a truncated file), or decreasing.
        let outside = try rawFile("outside.safetensors", header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eight)
        guard case .invalidOffsets(_, "w", 0, 16, 8)? = readError(outside) else { return XCTFail() }
        let decreasing = try rawFile("decreasing.safetensors", header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight)
        guard case .invalidOffsets? = readError(decreasing) else { return XCTFail() }
        let negative = try rawFile("negative-offset.safetensors", header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: eight)
        guard case .invalidOffsets? = readError(negative) else { return XCTFail() }

        // Overlaps, holes, trailing bytes.
        let overlap = try rawFile("overlap.safetensors",
                                  header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                  data: eight)
        guard case .overlappingData(_, "b", "a")? = readError(overlap) else { return XCTFail() }
        let same = try rawFile("same.safetensors",
                               header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                               data: eight)
        guard case .overlappingData? = readError(same) else { return XCTFail() }
        let hole = try rawFile("hole.safetensors",
                               header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                               data: eight + [0, 0, 0, 0])
        guard case .dataNotContiguous? = readError(hole) else { return XCTFail() }
        let late = try rawFile("late-start.safetensors", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight)
        guard case .dataNotContiguous? = readError(late) else { return XCTFail() }
        let trailing = try rawFile("trailing-data.safetensors", header: good, data: eight + [1])
        guard case .dataNotContiguous? = readError(trailing) else { return XCTFail() }

        // Duplicate names.
        let duplicate = try rawFile("duplicate.safetensors",
                                    header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                    data: eight)
        guard case .duplicateName(_, "a")? = readError(duplicate) else { return XCTFail() }
    }

    func testRandomBytesNeverCrash() throws {
        // Corrupt a valid file byte by byte and by truncation: every outcome is a value or a SafetensorsError.
        let url = folder.appendingPathComponent("valid.safetensors")
        try SafetensorsArchive(entries: [
            .init(name: "a", tensor: Tensor([1, 2, 3], shape: [3]), dtype: .F16),
            .init(name: "b", tensor: Tensor([4, 5], shape: [1, 2]), dtype: .I64),
        ], metadata: ["m": "n"]).write(to: url)
        let original = [UInt8](try Data(contentsOf: url))
        var generator = RandomGenerator(seed: 7)
        var errors = 0
        for trial in 0..<2000 {
            var corrupted = original
            if trial % 4 == 0 {
                corrupted = Array(corrupted.prefix(Int(generator.next() % UInt64(corrupted.count))))
            } else {
                for _ in 0..<(1 + trial % 3) {
                    let position = Int(generator.next() % UInt64(corrupted.count))
                    corrupted[position] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            do {
                _ = try SafetensorsArchive.decode(Data(corrupted), file: "corrupted-\(trial)")
            } catch is SafetensorsError {
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, 500)
    }
}
