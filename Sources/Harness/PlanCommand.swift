import ArgumentParser
import Experiments
import Foundation

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a spec's cells, trainable parameters per method and a rough cost.",
        discussion: """
        Each cell's cost is the measured training step of its backbone × method (one warm-up step, then one step \
        when slow or the median of three, on random data of the spec's batch and patch size) × the steps the cell \
        takes, plus its test inference, with core-hours = seconds × threads / 3600 (HIPPOPEFT_THREADS sets the \
        threads). Measurements are cached per configuration and thread count in RESULTS/measurements, so a \
        paper-size step (a minute or more, GBs of memory) is timed once; an ETA is printed while timing. \
        --no-measure times nothing and gives costs only where a measurement is cached. Also printed: the \
        --time, --cpus-per-task and --mem `harness slurm` would ask for. A budget larger than a data set's \
        training pool is refused before anything is built or timed.
        """)

    @OptionGroup var options: SpecOptions
    @Flag(help: "Do not time training steps (cached measurements are still used).")
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
