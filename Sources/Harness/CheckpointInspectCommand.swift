import ArgumentParser
import Experiments
import Foundation

struct CheckpointInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Format, wrapper keys, tensor names, shapes, dtypes and parameter count of a PyTorch checkpoint.")

    @Argument(help: "A .pth/.pt file written by torch.save.")
    var file: String
    @Flag(help: "Print JSON on stdout and nothing else there.")
    var json = false

    func run() throws {
        try reportingErrors {
            let inspection = try CheckpointInspection.make(URL(fileURLWithPath: file))
            if json { try printJSON(inspection) } else { print(inspection.text) }
        }
    }
}
