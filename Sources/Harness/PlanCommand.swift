import ArgumentParser
import Experiments
import Foundation

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a spec's cells, trainable parameters per method and a rough cost.",
        discussion: """
        The cost comes from timing a few training steps of each backbone × method on random data of the \
        training patch size (skip with --no-measure) times the steps each cell takes, plus the test inference; \
        the steps are listed either way. A budget larger than a data set's training pool is refused before \
        anything is built or timed.
        """)

    @OptionGroup var options: SpecOptions
    @Flag(help: "Do not time training steps.")
    var noMeasure = false
    @Flag(help: "Print JSON on stdout and nothing else there.")
    var json = false

    func run() throws {
        try reportingErrors {
            let (experiment, store) = try options.load(checkingLabels: true)
            let plan = try SweepPlan.make(spec: experiment, store: store, measure: !noMeasure, log: note)
            if json { try printJSON(plan) } else { print(plan.text) }
        }
    }
}
