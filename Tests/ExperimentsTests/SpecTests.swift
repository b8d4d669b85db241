import ConfigDecoding
import Experiments
import Foundation
import XCTest

final class SpecTests: XCTestCase {
    private let valid = """
    name: tiny
    seeds: [0, 1]
    backbone:
      name: unetr
      args: {in_channels: 1, out_channels: 2, img_size: [32, 32, 32], feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4}
    datasets:
      - {name: toy, layout: synthetic, synthetic: {subjects: 10}}
    budgets: [5, all]
    methods:
      - full
      - {name: lora, rank: 4, label: lora-r4}
    training:
      epochs: 2
    """

    private func issues(_ yaml: String, environment: [String: String] = [:]) -> [SpecIssue] {
        do {
            _ = try SpecLoader.parse(yaml, file: "spec.yaml", environment: environment)
            XCTFail("expected the spec to be refused")
            return []
        } catch let error as SpecError {
            return error.issues
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    func testValidSpecDecodes() throws {
        let spec = try SpecLoader.parse(valid, file: "spec.yaml")
        XCTAssertEqual(spec.seeds, [0, 1])
        XCTAssertEqual(spec.methods.map(\.label), ["full", "lora-r4"])
        XCTAssertEqual(spec.methods[1].configurationJSON.contains("\"rank\":4"), true, spec.methods[1].configurationJSON)
        XCTAssertEqual(spec.training.epochs, 2)
        XCTAssertEqual(spec.backbones[0].label, "unetr")
    }

    /// Checkpointing changes memory, never a result, so it must not change a cell's key (finished cells
    /// would rerun) while a setting that does change results must.
    func testActivationCheckpointingLeavesCellKeysAlone() throws {
        func keys(_ training: String) throws -> [String] {
            let yaml = valid.replacingOccurrences(of: "training:\n  epochs: 2", with: "training:\n  epochs: 2\n" + training)
            return try SpecLoader.parse(yaml, file: "spec.yaml").cells().map(\.key)
        }
        let plain = try keys("")
        XCTAssertEqual(plain.count, 8)
        XCTAssertEqual(try keys("  activation_checkpointing: true"), plain)
        XCTAssertEqual(try keys("  activation_checkpointing: false"), plain)
        XCTAssertNotEqual(try keys("  batch_size: 4"), plain)
    }

    /// Where the data lies is not part of a cell, nor of the pre-training stage a cell starts from: the
    /// same spec on another machine (or a CI checkout) finds the cells finished here. What is read from
    /// the folder (its label map, exclusions) still is.
    func testMovingTheDataKeepsTheCellKeys() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("moved-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        func keys(_ dataset: String) throws -> [String] {
            let yaml = valid.replacingOccurrences(of: "  - {name: toy, layout: synthetic, synthetic: {subjects: 10}}",
                                                  with: "  - {name: toy, layout: msd, \(dataset)}")
                .replacingOccurrences(of: "num_heads: 4}\n", with: "num_heads: 4}\n  pretrained: pretraining\n")
                + "\npretraining: {objective: self_supervised, dataset: toy, training: {epochs: 1}}\n"
            let spec = try SpecLoader.parse(yaml, file: "spec.yaml")
            return try SweepRunner(spec: spec, store: ResultStore(root: scratch.appendingPathComponent("results"))).cells().map(\.key)
        }
        let (data, moved) = (scratch.appendingPathComponent("data/msd").path, scratch.appendingPathComponent("elsewhere/msd").path)
        for folder in [data, moved] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let here = try keys("root: \(data)")
        XCTAssertEqual(here.count, 8)
        XCTAssertEqual(try keys("root: \(moved)"), here)
        XCTAssertNotEqual(try keys("root: \(data), exclude: [hippocampus_001]"), here)
        XCTAssertNotEqual(try keys("root: \(data), label_map: {1: 1, 2: 1}"), here)
    }

    /// A backbone may bring its own pre-training stage, so one spec compares sources: each backbone
    /// starts from its stage, the stage enters its cells' keys, and a stage naming an unknown data set
    /// or a mapping with both weights and a stage is refused where it is written.
    func testABackboneCanBringItsOwnPretrainingStage() throws {
        let args = "{in_channels: 1, out_channels: 2, img_size: [32, 32, 32], feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4}"
        func spec(ssl: String = "toy", both: Bool = false) -> String {
            """
            name: sources
            backbones:
              - {name: unetr, label: scratch, args: \(args), pretrained: none}
              - name: unetr
                label: synthetic
                args: \(args)
                pretrained: {pretraining: {dataset: {name: src, layout: synthetic, synthetic: {kind: brats, subjects: 4}}, training: {epochs: 1}}}
              - name: unetr
                label: ssl
                args: \(args)
                pretrained: {\(both ? "weights: w.safetensors, " : "")pretraining: {objective: self_supervised, dataset: \(ssl), training: {epochs: 1}}}
            datasets:
              - {name: toy, layout: synthetic, synthetic: {subjects: 10}}
            budgets: [5]
            methods: [full]
            """
        }
        let parsed = try SpecLoader.parse(spec(), file: "spec.yaml")
        let stages = parsed.backbones.map { parsed.pretrainingStage(for: $0) }
        XCTAssertNil(stages[0])
        XCTAssertEqual(stages[1]?.objective, .supervised)
        XCTAssertEqual(stages[1]?.dataset.name, "src")
        XCTAssertEqual(stages[2]?.objective, .selfSupervised)
        XCTAssertEqual(stages[2]?.dataset.name, "toy", "a named data set is resolved to the entry")
        XCTAssertEqual(parsed.stageDatasets.map(\.name), ["src"], "only the data set written out in full is added")
        let keys = try SweepRunner(spec: parsed, store: ResultStore(root: URL(fileURLWithPath: "/nonexistent"))).cells().map(\.key)
        XCTAssertEqual(Set(keys).count, 3, "the same network from three sources is three cells")

        XCTAssert(issues(spec(ssl: "tyo")).contains { $0.message.contains("pretraining.dataset names 'tyo'") })
        XCTAssert(issues(spec(both: true)).contains { $0.message.contains("give one of {weights: PATH} and {pretraining:") })
    }

    func testUnknownKeyIsNamedWithASuggestionAndALine() {
        let found = issues(valid.replacingOccurrences(of: "  epochs: 2", with: "  epohcs: 2"))
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 13)
        XCTAssert(found.first?.message.contains("did you mean 'epochs'") ?? false, "\(found)")
        XCTAssertEqual(found.first?.path, "training.epohcs")
    }

    func testWrongTypeIsNamedWithLineAndColumn() {
        let found = issues(valid.replacingOccurrences(of: "  epochs: 2", with: "  epochs: a hundred"))
        XCTAssertEqual(found.first?.line, 13)
        XCTAssertEqual(found.first?.column, 11)
        XCTAssert(found.first?.message.contains("must be an integer, got 'a hundred'") ?? false, "\(found)")
        XCTAssert(found.first?.description.contains("spec.yaml:13:11") ?? false, "\(found)")
    }

    func testUnknownMethodListsTheKnownOnes() {
        let found = issues(valid.replacingOccurrences(of: "  - full", with: "  - fulll"))
        XCTAssert(found.first?.message.contains("did you mean 'full'") ?? false, "\(found)")
        XCTAssert(found.first?.message.contains("lora_pt") ?? false, "\(found)")
        XCTAssertEqual(found.first?.line, 10)
    }

    func testUnknownMethodOptionIsRefused() {
        let found = issues(valid.replacingOccurrences(of: "rank: 4", with: "rnak: 4"))
        XCTAssert(found.first?.message.contains("did you mean 'rank'") ?? false, "\(found)")
    }

    func testEnvironmentVariablesExpandAndAMissingOneIsNamed() throws {
        let yaml = valid.replacingOccurrences(of: "layout: synthetic,", with: "layout: synthetic, root: \"${DATA_ROOT}/x\",")
        let found = issues(yaml)
        XCTAssert(found.first?.message.contains("DATA_ROOT is not set") ?? false, "\(found)")
        XCTAssertEqual(found.first?.line, 7)
    }

    func testAliasBombIsRefusedQuickly() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += valid
        // 10^10 nodes if expanded: refused by counting nodes (SpecLoader.maximumNodes), not by a clock.
        let found = issues(yaml)
        XCTAssert(found.first?.message.contains("alias bomb") ?? false, "\(found)")
    }

    func testYAMLSyntaxErrorIsOneLocatedLine() {
        let found = issues("name: [unclosed\nseeds: 1\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertNotNil(found.first?.line)
        XCTAssertFalse(found.first?.message.contains("\n") ?? true)
    }

    /// Sizes that would end in a failed multi-gigabyte allocation or an overflow trap are refused when
    /// the spec loads, at the field (found by scripts/fuzz).
    func testAbsurdSizesAreRefusedWhereTheyAre() {
        let cases: [(String, String, String)] = [
            ("in_channels: 1", "in_channels: 65536", "in_channels 65536 is outside 1...1024"),
            ("img_size: [32, 32, 32]", "img_size: [32, 2147483648, 32]", "img_size 2147483648 is outside"),
            ("hidden_size: 48, mlp_dim: 96", "hidden_size: 16384, mlp_dim: 65536", "parameters, more than"),
            ("  epochs: 2", "  epochs: 9223372036854775807", "epochs must be 1 to 1000000"),
            ("  epochs: 2", "  epochs: 2\n  batch_size: 100000", "batch_size must be 1 to 1024"),
        ]
        for (old, new, message) in cases {
            let found = issues(valid.replacingOccurrences(of: old, with: new))
            XCTAssert(found.contains { $0.message.contains(message) }, "\(new): \(found)")
            XCTAssert(found.allSatisfy { $0.line != nil }, "\(new): \(found)")
        }
    }

    func testNonScalarKeysAndNonRegularWeightsAreRefused() {
        let found = issues(valid.replacingOccurrences(of: "  epochs: 2", with: "  epochs: 2\n  {}: 3"))
        XCTAssert(found.contains { $0.message.contains("a key must be a plain name") && $0.line == 14 }, "\(found)")
        // /dev/zero exists, but digesting it (part of every cell key) would never end.
        let zero = issues(valid.replacingOccurrences(of: "  name: unetr\n", with: "  name: unetr\n  pretrained: /dev/zero\n"))
        XCTAssert(zero.contains { $0.message.contains("is not a regular file") }, "\(zero)")
    }

    func testDuplicateLabelsAreReported() {
        let found = issues(valid.replacingOccurrences(of: "label: lora-r4", with: "label: full"))
        XCTAssert(found.contains { $0.message.contains("two methods are labelled 'full'") }, "\(found)")
    }
}
