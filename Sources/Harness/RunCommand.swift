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

    @Argument(help: "The YAML spec.")
    var spec: String
    @Option(help: "Results folder (default: results/<spec name>).")
    var results: String?
    @Option(help: "Run only matching cells, e.g. 'backbone=unetr,seed=0' or 'method=lora|full'.")
    var only: String?
    @Flag(help: "No live progress on stderr.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: spec)
            let experiment = try SpecLoader.load(url)
            try checkLabels(experiment, specPath: spec)
            let store = ResultStore(root: URL(fileURLWithPath: results ?? "results/\(experiment.name)"))
            let runner = SweepRunner(spec: experiment, store: store, baseDirectory: url.deletingLastPathComponent(),
                                     progress: ProgressPrinter(enabled: !quiet))
            let filter = try only.map(CellFilter.init)
            try store.prepare()
            let cells = try runner.cells()
            try SweepManifest(spec: experiment, specPath: url.path, cells: cells).save(to: store)
            try runner.run(filter: filter)
            // Every record on disk, not only the cells this runner saw: with two runners on one folder, the
            // last to finish writes the whole report.
            let onDisk = Dictionary(store.allRecords { note($0) }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            try finishReport(records: cells.compactMap { onDisk[$0.key] }, spec: experiment, store: store)
            let failed = cells.filter { filter?.matches($0) ?? true }.compactMap { onDisk[$0.key] }.filter { $0.status == .failed }
            if !failed.isEmpty {
                note("error: \(failed.count) cell(s) failed (reasons in the table above and in \(store.cells.path)); "
                     + "fix the cause and run again: failed cells are retried, finished ones kept")
                throw ExitCode.failure
            }
        }
    }
}

/// Writes the report files and prints the tables (shared by `run` and `report`).
func finishReport(records: [CellRecord], spec: ExperimentSpec?, store: ResultStore) throws {
    let settings = spec?.report ?? ReportSettings()
    let order = spec.map { ReportOrder(spec: $0) } ?? ReportOrder()
    let written = try writeReport(records: records, spec: spec?.name ?? store.root.lastPathComponent, settings: settings,
                                  order: order, to: store.root)
    print(terminalSummary(records: records, settings: settings, order: order))
    if let manifest = SweepManifest.load(from: store) {
        let missing = manifest.missing(in: store)
        if !missing.isEmpty {
            print("\n\(missing.count) cell(s) have no record yet:")
            for (entry, log) in missing.prefix(20) { print("  [\(entry.index)] \(entry.title)" + (log.map { " — log: \($0)" } ?? "")) }
        }
    }
    note("report: " + written.map(\.path).joined(separator: ", "))
}
