import Backbones
import Experiments
import Foundation
import PEFTMethods
import Tensors
import TestSupport
import XCTest

/// The `methods:` sections of experiments/paper/*.yaml as shipped: the papers' baselines, and the
/// HyPS figure's ablations on HyPS's 36 layers at HyPS's scale.
final class PaperSpecMethodsTests: XCTestCase {
    /// The spec's own `methods:` section, parsed inside a spec that needs no data (the paper specs
    /// point at data sets users hold).
    private func methods(_ file: String) throws -> [MethodSpec] {
        let url = SharedData.packageRoot.appendingPathComponent("experiments/paper/\(file)")
        let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        let start = try XCTUnwrap(lines.firstIndex(of: "methods:"), file)
        let end = lines[(start + 1)...].firstIndex { line in
            guard let first = line.first else { return false }
            return !first.isWhitespace && first != "#"
        } ?? lines.count
        let spec = """
        name: methods-of-\(file)
        backbone:
          name: unetr
          args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, mlp_dim: 48, num_heads: 2}
        datasets:
          - {name: toy, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 7}, split: {validation: 1, test: 2, seed: 0}}
        budgets: [2]
        training: {epochs: 1, batch_size: 1}

        """ + lines[start..<end].joined(separator: "\n")
        return try SpecLoader.parse(spec).methods
    }

    func testBothPaperSpecsRunThePapersLinearAndLabelTheProbeApart() throws {
        for file in ["hyps.yaml", "lora-pt.yaml"] {
            let methods = try methods(file)
            XCTAssertTrue(methods.contains { $0.name == "decoder_only" }, "\(file): the papers' Linear row")
            let probe = try XCTUnwrap(methods.first { $0.name == "linear_probe" }, file)
            XCTAssertNotEqual(probe.label, "linear_probe", "\(file): linear_probe needs a label apart from the papers' Linear")
        }
    }

    /// Parallel, Sequential and CPS adapt exactly the layers HyPS adapts (36 on the paper's Swin
    /// depths, with the patch-merging reductions), at s = scaling / d (1/8 with the default d = 8).
    func testHyPSAblationsAdaptHyPSsLayersAtHyPSsScale() throws {
        var config = SwinUNETRConfig(inChannels: 1, outChannels: 2)
        (config.featureSize, config.depths, config.numHeads, config.windowSize) = (12, [2, 2, 2, 2], [3, 6, 12, 24], 4)
        var rng = RandomGenerator(seed: 1)
        let hyps = Set(try HyPS().apply(to: try makeBackbone(.swinunetr(config)), rng: &rng).adapted.map(\.name))
        XCTAssertEqual(hyps.count, 36)
        let ablations = try methods("hyps.yaml").filter { ["parallel", "sequential", "cps"].contains($0.name) }
        XCTAssertEqual(ablations.map(\.name).sorted(), ["cps", "parallel", "sequential"])
        for entry in ablations {
            let adapted = try entry.method.apply(to: try makeBackbone(.swinunetr(config)), rng: &rng).adapted.map(\.name)
            XCTAssertEqual(Set(adapted), hyps, entry.label)
            let scale = (entry.method as? ParallelAdapter)?.config.branchScale ?? (entry.method as? SequentialAdapter)?.config.branchScale
                ?? (entry.method as? CPSAdapter)?.config.branchScale
            XCTAssertEqual(scale, 1.0 / 8, entry.label)
        }
    }
}
