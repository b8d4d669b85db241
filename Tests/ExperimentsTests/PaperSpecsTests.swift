import Backbones
import Foundation
import XCTest
import Experiments
import TestSupport
import Volumes

/// The paper specs on data trees of the papers' sizes and layouts (EADC-ADNI HarP 135 subjects with
/// split lists, LPBA40 40, HFH 25; tiny volumes): every cell gets exactly its budget of training cases,
/// and a budget larger than a pool is refused before any work. `scripts/paper-data-trees` writes the
/// same trees at the real grid size for docs/REPRODUCING.md.
final class PaperSpecsTests: XCTestCase {
    private static let paper = SharedData.packageRoot.appendingPathComponent("experiments/paper")

    /// The trees, with split lists of all 135 subjects as docs/REPRODUCING.md writes them (27 test, 13
    /// validation, 95 training lines); the spec's `exclude` then drops the five mismatched subjects.
    private func paperTrees(in folder: TemporaryFolder) throws -> [String: String] {
        // Binary labels: every set's classes after its label map are {0, 1}, as out_channels 2 needs.
        let image = try TinyCase.image()
        let label = try Volume(shape: TinyCase.shape, voxels: try TinyCase.label().voxels.map { min($0, 1) }, spacing: [1, 1, 1])
        func pair(_ imagePath: String, _ labelPath: String) throws {
            try NIfTI.write(image, to: try folder.prepare(imagePath))
            try NIfTI.write(label, to: try folder.prepare(labelPath), datatype: .uint8)
        }
        for n in 1...135 { try pair("harp/sub\(n)/sub\(n)_img.nii.gz", "harp/sub\(n)/sub\(n)_mask.nii.gz") }
        let subjects = (1...135).map { "sub\($0)" }
        try folder.writeText(subjects.prefix(27).joined(separator: "\n") + "\n", to: "harp/test.txt")
        try folder.writeText(subjects.dropFirst(27).prefix(13).joined(separator: "\n") + "\n", to: "harp/valid.txt")
        try folder.writeText(subjects.dropFirst(40).joined(separator: "\n") + "\n", to: "harp/train.txt")
        for n in 1...40 { try pair(String(format: "lpba40/images/S%02d.nii.gz", n), String(format: "lpba40/labels/S%02d.nii.gz", n)) }
        for n in 1...25 { try pair(String(format: "hfh/images/hfh%02d.nii.gz", n), String(format: "hfh/labels/hfh%02d.nii.gz", n)) }
        try folder.writeText("", to: "weights/swinunetr.safetensors")
        try folder.writeText("", to: "weights/unetr.safetensors")
        return ["HARP_ROOT": folder.path + "/harp", "LPBA40_ROOT": folder.path + "/lpba40", "HFH_ROOT": folder.path + "/hfh",
                "HYPS_WEIGHTS": folder.path + "/weights/swinunetr.safetensors",
                "LORAPT_WEIGHTS": folder.path + "/weights/unetr.safetensors"]
    }

    /// The same spec on a small network of the same kind, so the plan builds each method in a moment
    /// (the cells, budgets and data do not depend on the network's width).
    private func shrunk(_ spec: ExperimentSpec) -> ExperimentSpec {
        var spec = spec
        for n in spec.backbones.indices {
            switch spec.backbones[n].config {
            case .unetr(var args):
                (args.featureSize, args.hiddenSize, args.mlpDim, args.numHeads) = (4, 24, 24, 2)
                spec.backbones[n].config = .unetr(args)
            case .swinunetr(var args):
                args.featureSize = 12
                spec.backbones[n].config = .swinunetr(args)
            }
        }
        return spec
    }

    func testPaperSpecsPlanEveryCellWithExactlyItsBudget() throws {
        let folder = try TemporaryFolder()
        let environment = try paperTrees(in: folder)
        let expected: [String: [Int]] = ["eadc-harp": [5, 10, 20, 40], "lpba40": [5, 10, 20], "hfh": [5, 10]]
        let configs = ["hyps.yaml": "backbones/hyps-swinunetr.json", "lora-pt.yaml": "backbones/lora-pt-unetr.json"]
        for name in ["hyps.yaml", "lora-pt.yaml"] {
            let paperSpec = try SpecLoader.load(Self.paper.appendingPathComponent(name), environment: environment)
            // The backbone file docs/REPRODUCING.md converts checkpoints against is the spec's backbone.
            let json = try Data(contentsOf: Self.paper.appendingPathComponent(configs[name]!))
            XCTAssertEqual(try JSONDecoder().decode(BackboneConfig.self, from: json), paperSpec.backbones[0].config, name)
            let spec = shrunk(paperSpec)
            let store = ResultStore(root: folder.url.appendingPathComponent("results-\(name)"))
            let plan = try SweepPlan.make(spec: spec, store: store, measure: false, log: { _ in })
            let cells = try spec.cells()
            XCTAssertEqual(plan.cells.count, cells.count)
            XCTAssertEqual(cells.count, 9 * spec.methods.count * spec.seeds.count, "\(name): 4 + 3 + 2 budgets per method")
            for dataset in spec.datasets {
                XCTAssertEqual(spec.budgets(of: dataset).map(\.label), expected[dataset.name]!.map(String.init), name)
            }
            for (planned, cell) in zip(plan.cells, cells) {
                guard case .count(let budget) = cell.budget else { return XCTFail("\(cell.title): a numeric budget") }
                XCTAssertEqual(planned.trainingCases, budget, "\(name): \(cell.title)")
                // drop_last: ⌊budget / batch⌋ steps per epoch.
                XCTAssertEqual(planned.trainingSteps, spec.training.epochs * (budget / spec.training.batchSize), cell.title)
            }
            let harp = try Dataset(spec: spec.datasets[0])
            XCTAssertEqual(harp.scan.excluded.sorted(), ["sub134", "sub35", "sub65", "sub8", "sub85"])
            // sub8 was a test line, sub35 a validation line, sub65, sub85 and sub134 training lines.
            XCTAssertEqual([harp.splits.test.count, harp.splits.validation.count, harp.splits.trainingPool.count], [26, 12, 92])
        }
    }

    func testABudgetLargerThanAPoolIsRefusedBeforeAnyWork() throws {
        let folder = try TemporaryFolder()
        let environment = try paperTrees(in: folder)
        let url = Self.paper.appendingPathComponent("lora-pt.yaml")
        // The spec as it was: every data set asked for 40 training cases.
        let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "    budgets: [5, 10]\n", with: "")
        let spec = shrunk(try SpecLoader.parse(text, file: url.path, environment: environment))
        let store = ResultStore(root: folder.url.appendingPathComponent("results"))
        XCTAssertThrowsError(try SweepPlan.make(spec: spec, store: store, measure: false,
                                                log: { _ in })) { error in
            let lines = "\(error)".split(separator: "\n")
            XCTAssertEqual(lines.count, 2, "one line per budget that does not fit: \(error)")
            XCTAssertTrue(lines[0].contains("'hfh'") && lines[0].contains("budget 20") && lines[0].contains("pool of 17"), "\(error)")
            XCTAssertTrue(lines[1].contains("budget 40") && lines[1].contains("pool of 17"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.root.path), "nothing written")
        // `run` refuses the same way, before any record, pre-training or claim.
        let runner = SweepRunner(spec: spec, store: store, progress: ProgressPrinter(enabled: false))
        XCTAssertThrowsError(try runner.run()) { XCTAssertTrue("\($0)".contains("budget 40"), "\($0)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.cells.path).count, 0)
    }

    func testDropLastRefusesABudgetThatFillsNoBatch() throws {
        let spec = try SpecLoader.parse("""
            name: t
            backbone: {name: unetr, args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 12, mlp_dim: 12, num_heads: 2}}
            datasets: [{name: d, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 10}, budgets: [3, 4]}]
            methods: [full]
            training: {batch_size: 4, drop_last: true}
            """)
        let lines = BudgetCheck.problems(cells: try spec.cells(), training: spec.training) { _ in 7 }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines[0].contains("budget 3") && lines[0].contains("batch_size 4"), "\(lines)")
    }
}
