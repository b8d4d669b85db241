import ArgumentParser
import Foundation
import Volumes

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Metrics of one prediction against a reference (NIfTI label maps on the same grid).",
        discussion: """
        Per foreground label and for their union ("all"): dice, hd_max (SimpleITK's set Hausdorff: the papers' \
        "HD95" column), hd95 (MONAI), hd95_medpy (pooled), assd, nsd_1mm (surface Dice at 1 mm, surfel-area \
        weighted), volume_ref_mm3, volume_pred_mm3. Undefined distances (an empty mask) are null with a \
        "<name>_note". Label values must be integers ≥ 0. The grids are compared from the headers before any voxel is \
        decoded, and a pair that needs more memory than this process can use is refused. Definitions: docs/METRICS.md.
        """)

    @Option(name: .customLong("pred"), help: "Predicted label map (.nii, .nii.gz, .hdr/.img).")
    var prediction: String
    @Option(name: .customLong("ref"), help: "Reference label map on the same grid.")
    var reference: String
    @Flag(help: "Print JSON on stdout and nothing else there.")
    var json = false

    func run() throws {
        try reportingErrors {
            let metrics = try evaluateSegmentation(predictionPath: prediction, referencePath: reference)
            if json {
                print(metrics.jsonString(prettyPrinted: true))
            } else {
                for key in metrics.keys {
                    guard let label = metrics[key] else { continue }
                    let values = MetricName.allCases.map { name in
                        "\(name.rawValue)=\(label[name].map { String(format: "%.4f", $0) } ?? "null")"
                    }
                    print("label \(key): " + values.joined(separator: " "))
                }
            }
        }
    }
}
