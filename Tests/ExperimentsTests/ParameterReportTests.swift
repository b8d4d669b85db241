import Backbones
import Experiments
import Foundation
import PEFTMethods
import XCTest

/// `harness params` counts as MONAI does (`total`, `backbone`) and as the papers did (`used`): their
/// MONAI 1.3 UNETR had no norm_cross_attn, so 93,011,170 parameters where MONAI 1.6 registers 93,029,602.
final class ParameterReportTests: XCTestCase {
    /// experiments/paper/lora-pt.yaml's UNETR.
    private let paperUNETR = """
    {"backbone": "unetr", "args": {"in_channels": 1, "out_channels": 2, "img_size": [128, 128, 128], "feature_size": 16,
     "hidden_size": 768, "mlp_dim": 3072, "num_heads": 12, "proj_type": "conv", "norm_name": "instance",
     "res_block": true, "dropout_rate": 0.1}}
    """

    func testThePaperUNETRUsesTheParametersTheAuthorsCounted() throws {
        let config = try JSONDecoder().decode(BackboneConfig.self, from: Data(paperUNETR.utf8))
        let full = try ParameterReport.make(backbone: config, method: FullFineTuning())
        XCTAssertEqual(full.backboneParameters, 93_029_602)
        XCTAssertEqual(full.usedParameters, 93_011_170)
        XCTAssertEqual(full.trainableParameters, 93_029_602)
        XCTAssertEqual(full.trainableUsedParameters, 93_011_170)
        XCTAssertEqual(full.trainablePercent, 100)
        // SSF's scale-shift on the never-called norm_cross_attn is in the optimizer but never read.
        let ssf = try ParameterReport.make(backbone: config, method: SSF())
        XCTAssertEqual(ssf.trainableParameters - ssf.trainableUsedParameters, 12 * 2 * 768)
        XCTAssertEqual(ssf.trainablePercent, 100 * Double(ssf.trainableUsedParameters) / 93_011_170, accuracy: 1e-9)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(full)) as! [String: Any]
        XCTAssertEqual(json["used_parameters"] as? Int, 93_011_170)
        XCTAssertEqual(json["backbone_parameters"] as? Int, 93_029_602)
    }
}
