import ArgumentParser
import Experiments
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Inspect the data sets of a spec.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What each data set holds: usable cases, skipped files and why, shapes, spacings, labels.",
            discussion: "Exits with status 1 when it reports an error: a data set that does not scan, a case that does not read or whose labels out_channels cannot represent, a split that cannot be made, a training budget larger than its data set's training pool.")

        @Argument(help: "The YAML spec.")
        var spec: String
        @Flag(help: "Print JSON on stdout and nothing else there.")
        var json = false

        func run() throws {
            try reportingErrors {
                let experiment = try SpecLoader.load(URL(fileURLWithPath: spec))
                let datasets = experiment.datasets + experiment.stageDatasets
                let summary = DataCheck.run(datasets, requirements: LabelRange.requirements(experiment))
                if json { try printJSON(summary) } else { print(summary.text) }
                // A budget larger than a data set's training pool: one line each. The report goes on stdout;
                // the verdict is the exit status (and one line on stderr per problem).
                let pools = Dictionary(summary.datasets.map { ($0.dataset, $0.split?.trainingPool) }, uniquingKeysWith: { a, _ in a })
                let budgets = BudgetCheck.problems(cells: try experiment.cells(), training: experiment.training) { pools[$0.name] ?? nil }
                for line in budgets { note("error: \(line)") }
                if summary.errorCount > 0 {
                    note("error: \(spec): \(summary.errorCount) error(s) in the data (listed in the report); fix them before `run`")
                }
                if summary.errorCount > 0 || !budgets.isEmpty { throw ExitCode.failure }
            }
        }
    }
}
