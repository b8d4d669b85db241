import ArgumentParser
import Backbones
import Experiments
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment new images with a finished cell's model (or given weights); write NIfTI label maps and volumes.csv.",
        discussion: """
        Each image is preprocessed as the model's training data was, predicted as the sweep evaluates (sliding windows, \
        checkpoint averaging, TTA, post-processing), and written as OUT/<id>.nii.gz on the image's own grid (same shape \
        and affine). OUT/volumes.csv lists each label's volume in mm³ and the left/right hippocampal volumes \
        (by RAS hemisphere), which `harness diagnose` reads (docs/DIAGNOSIS.md). A bad image is reported and the others \
        are still written; the exit status is then 1.
        """)

    @Option(help: "A finished cell's record, RESULTS/cells/<key>.json.")
    var cell: String?
    @Option(parsing: .singleValue, help: "Weights (safetensors or .pth) instead of --cell; repeat to average several.")
    var weights: [String] = []
    @Option(help: "With --weights: the backbone config.json.")
    var backbone: String?
    @Option(help: "With --weights: the method the weights were trained with (they are then cell checkpoints).")
    var method: String?
    @Option(name: .customLong("method-config"), help: "With --method: its options as JSON, e.g. '{\"rank\": 4}'.")
    var methodConfig: String?
    @Option(help: "With --method: the starting weights the cell was trained from.")
    var pretrained: String?
    @Option(help: "With --method: the cell's seed (the method's initialisation).")
    var seed: UInt64 = 0
    @Flag(help: "With --weights: average the 8 mirrored predictions.")
    var tta = false
    @Option(parsing: .upToNextOption, help: "Image files and/or folders of images (.nii, .nii.gz, .hdr).")
    var images: [String] = []
    @Option(help: "Output folder.")
    var out: String
    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard (cell == nil) != weights.isEmpty else { throw ValidationError("give either --cell or --weights") }
        guard weights.isEmpty || backbone != nil else { throw ValidationError("--weights needs --backbone CONFIG.json") }
        guard cell == nil || (backbone == nil && method == nil && pretrained == nil) else {
            throw ValidationError("--cell brings its own backbone and method; drop --backbone/--method/--pretrained")
        }
        guard !images.isEmpty else { throw ValidationError("--images needs at least one file or folder") }
    }

    func run() throws {
        try reportingErrors {
            let model: PredictionModel
            if let cell {
                model = try PredictionModel.cell(record: URL(fileURLWithPath: cell))
            } else {
                var evaluation = EvaluationSettings()
                evaluation.flipTTA = tta
                model = try PredictionModel.weights(
                    weights.map { URL(fileURLWithPath: $0) }, backbone: try BackboneConfig.load(contentsOf: URL(fileURLWithPath: backbone!)),
                    method: try method.map { try makeMethod(named: $0, configurationJSON: methodConfig) },
                    pretrained: pretrained.map { URL(fileURLWithPath: $0) }, seed: seed,
                    preprocessing: PreprocessingSpec(), evaluation: evaluation)
            }
            let quiet = quiet
            let run = ImagePrediction(model: model, output: URL(fileURLWithPath: out), log: { if !quiet { note($0) } })
            try run.run(images: try ImagePrediction.images(images))
        }
    }
}
