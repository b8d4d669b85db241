import ArgumentParser
import Backbones
import Experiments
import Foundation

struct CheckpointConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a PyTorch checkpoint's model tensors as safetensors (module. prefixes stripped).",
        discussion: """
        Floating tensors are written as F32 and bool as U8 unless --keep-dtype; integer tensors keep their dtype. With \
        --backbone the tensors must load strictly into that configuration (every missing, unexpected or mis-shaped \
        key is listed and nothing is written); parameters the forward pass never uses (MONAI ≥ 1.4's \
        norm_cross_attn) may be absent and are reported.
        """)

    @Argument(help: "A .pth/.pt file written by torch.save.")
    var file: String
    @Argument(help: "The .safetensors file to write.")
    var output: String
    @Option(help: "A backbone config.json to check the tensors against.")
    var backbone: String?
    @Flag(name: .customLong("keep-dtype"), help: "Keep float16/bfloat16/float64 (and bool) tensors in their dtype.")
    var keepDtype = false

    func run() throws {
        try reportingErrors {
            let config = try backbone.map { try BackboneConfig.load(contentsOf: URL(fileURLWithPath: $0)) }
            let outcome = try CheckpointConversion.convert(URL(fileURLWithPath: file), to: URL(fileURLWithPath: output),
                                                           backbone: config, keepDtype: keepDtype)
            if !outcome.unusedMissing.isEmpty {
                note("not in the checkpoint, unused by the forward pass, left at initialisation: \(outcome.unusedMissing.count) tensors ("
                     + outcome.unusedMissing.prefix(4).joined(separator: ", ") + (outcome.unusedMissing.count > 4 ? ", …)" : ")"))
            }
            print("wrote \(output): \(outcome.tensorCount) tensors, \(outcome.parameterCount) parameters"
                  + (config == nil ? "" : " (checked against \(backbone!))"))
        }
    }
}
