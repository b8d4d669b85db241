import ArgumentParser
import Experiments
import Foundation

struct RunCell: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-cell",
        abstract: "Run one cell of a sweep by index (what each Slurm array task calls).",
        discussion: "Safe when several tasks share a results folder: each cell is claimed atomically; a done cell is skipped.")

    @OptionGroup var options: SpecOptions
    @Option(help: "The cell's index (0-based, as listed by `harness plan`).")
    var index: Int

    func run() throws {
        try reportingErrors {
            let (experiment, store) = try options.load()
            let runner = SweepRunner(spec: experiment, store: store)
            guard let record = try runner.runCell(index: index, logPath: ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"]
                .map { _ in store.logs.appendingPathComponent("cell-\(index).log").path }) else {
                note("cell \(index) is being run by another task")
                return
            }
            if record.status == .failed { throw ExitCode.failure }
        }
    }
}
