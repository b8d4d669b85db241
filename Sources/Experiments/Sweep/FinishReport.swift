import Foundation

/// What ending a sweep (or `harness report`) produced: the report files, the tables for the terminal,
/// and the cells of the manifest that have no record yet (with their Slurm logs).
public struct FinishedReport: Sendable {
    public var files: [URL]
    /// The tables, then the cells without a record (at most 20 listed).
    public var summary: String
}

/// Writes the report files of `records` into the results folder and returns them with the terminal
/// summary (shared by `run` and `report`). Row order and formats come from `spec` when it is at hand,
/// else from the folder's manifest, which keeps them from the run that wrote it.
public func finishReport(records: [CellRecord], spec: ExperimentSpec?, store: ResultStore) throws -> FinishedReport {
    let manifest = SweepManifest.load(from: store)
    let settings = spec?.report ?? manifest?.report ?? ReportSettings()
    let order = spec?.reportOrder ?? manifest?.order ?? ReportOrder()
    let files = try writeReport(records: records, spec: spec?.name ?? manifest?.spec ?? store.root.lastPathComponent,
                                settings: settings, order: order, to: store.root)
    var summary = terminalSummary(records: records, settings: settings, order: order)
    if let manifest {
        let missing = manifest.missing(in: store)
        if !missing.isEmpty {
            summary += "\n\n\(missing.count) cell(s) have no record yet:"
            for (entry, log) in missing.prefix(20) { summary += "\n  [\(entry.index)] \(entry.title)" + (log.map { " — log: \($0)" } ?? "") }
        }
    }
    return FinishedReport(files: files, summary: summary)
}
