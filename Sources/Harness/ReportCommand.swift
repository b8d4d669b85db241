import ArgumentParser
import Experiments
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild tables and plots from the cell records of a results folder.",
        discussion: "Gathers RESULTS/cells/*.json (from local runs and Slurm tasks alike) into the same tables as `run`.")

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
            let spec = manifest.flatMap { try? SpecLoader.load(URL(fileURLWithPath: $0.specPath)) }
            // Only the records of the current spec's cells, when the spec is still at hand.
            let keys = manifest.map { Set($0.cells.map(\.key)) }
            show(try finishReport(records: records.filter { keys?.contains($0.key) ?? true }, spec: spec, store: store))
        }
    }
}
