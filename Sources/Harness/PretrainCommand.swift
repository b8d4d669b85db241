import ArgumentParser
import Experiments
import Foundation

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the spec's pre-training stage for every backbone that needs it (once; shared by all cells).")

    @OptionGroup var options: SpecOptions

    func run() throws {
        try reportingErrors {
            let (experiment, store) = try options.load()
            let runner = SweepRunner(spec: experiment, store: store)
            for backbone in experiment.backbones { _ = try runner.weights(for: backbone) }
        }
    }
}
