import ArgumentParser
import Experiments
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Inspect the data sets of a spec.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What each data set holds: usable cases, skipped files and why, shapes, spacings, labels.")

        @Argument(help: "The YAML spec.")
        var spec: String
        @Flag(help: "Print JSON on stdout and nothing else there.")
        var json = false

        func run() throws {
            try reportingErrors {
                let experiment = try SpecLoader.load(URL(fileURLWithPath: spec))
                let datasets = experiment.datasets + (experiment.pretraining.map { [$0.dataset] } ?? [])
                let summary = DataCheck.run(datasets)
                if json { try printJSON(summary) } else { print(summary.text) }
            }
        }
    }
}
