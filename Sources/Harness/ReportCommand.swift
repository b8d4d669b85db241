import ArgumentParser
import Experiments
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild tables and plots from the cell records of a results folder.",
        discussion: """
            Gathers RESULTS/cells/*.json (from local runs and Slurm tasks alike) into the same tables as `run`: \
            the same methods, row order and reference method, kept in RESULTS/sweep.json by the run that wrote it.
            """)

    @Argument(help: "A results folder.")
    var results: String

    func run() throws {
        try reportingErrors {
            let store = ResultStore(root: URL(fileURLWithPath: results))
            guard FileManager.default.fileExists(atPath: store.cells.path) else {
                throw ResultStoreError.unreadableRecord(store.cells.path, "no cells folder; is this a results folder?")
            }
            let records = store.allRecords { note($0) }
            let manifest = SweepManifest.load(from: store)
            if manifest == nil { note("\(SweepManifest.url(in: store).path) is missing: every record is reported, with default settings") }
            // Only the records of the spec's cells (a results folder may hold records of older versions), in
            // the manifest's cell order as `run` passes them, so that both write the same files.
            let byKey = Dictionary(records.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            show(try finishReport(records: manifest.map { $0.cells.compactMap { byKey[$0.key] } } ?? records,
                                  spec: manifest.flatMap(specOfAnOlderManifest), store: store))
        }
    }

    /// Manifests written before they kept the report's layout point at their spec instead.
    private func specOfAnOlderManifest(_ manifest: SweepManifest) -> ExperimentSpec? {
        guard manifest.report == nil else { return nil }
        do {
            return try SpecLoader.load(URL(fileURLWithPath: manifest.specPath))
        } catch {
            note("the report's settings and row order are the defaults: \(manifest.specPath) could not be read "
                 + "(\(String(describing: error).split(separator: "\n").first ?? "")); rerun `harness run` to refresh sweep.json")
            return nil
        }
    }
}
