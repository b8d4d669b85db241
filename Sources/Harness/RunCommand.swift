import ArgumentParser
import Experiments
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run or resume a sweep; ends by printing the tables.",
        discussion: """
        Cells with a record of a finished cell in RESULTS/cells are skipped; an interrupted cell resumes from its \
        last epoch; a failed cell is recorded with its reason and the sweep goes on, and the next run retries it. \
        Reports (Markdown, CSV, LaTeX, HTML with SVG plots) are written to RESULTS at the end, from every record \
        of the spec's cells on disk (also those another runner wrote). Exits with status 1 when a selected cell \
        failed. The spec format: docs/SPEC.md.
        """)

    @OptionGroup var options: SpecOptions
    @Option(help: "Run only matching cells, e.g. 'backbone=unetr,seed=0' or 'method=lora|full'.")
    var only: String?
    @Flag(help: "No live progress on stderr.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let (experiment, store) = try options.load(checkingLabels: true)
            let runner = SweepRunner(spec: experiment, store: store, progress: ProgressPrinter(enabled: !quiet))
            let filter = try only.map(CellFilter.init)
            try store.prepare()
            let cells = try runner.cells()
            try SweepManifest(spec: experiment, specPath: options.specURL.path, cells: cells).save(to: store)
            try runner.run(filter: filter)
            // Every record on disk, not only the cells this runner saw: with two runners on one folder, the
            // last to finish writes the whole report.
            let onDisk = Dictionary(store.allRecords { note($0) }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            show(try finishReport(records: cells.compactMap { onDisk[$0.key] }, spec: experiment, store: store))
            let failed = cells.filter { filter?.matches($0) ?? true }.compactMap { onDisk[$0.key] }.filter { $0.status == .failed }
            if !failed.isEmpty {
                note("error: \(failed.count) cell(s) failed (reasons in the table above and in \(store.cells.path)); "
                     + "fix the cause and run again: failed cells are retried, finished ones kept")
                throw ExitCode.failure
            }
        }
    }
}
