import Foundation

/// `RESULTS/sweep.json`: which spec the folder belongs to, how its report is laid out, and every cell's
/// index, key and coordinates, so `harness report DIR` rebuilds the run's own tables without the spec
/// (which may need data variables, or have moved) and names cells that never produced a record (and
/// their Slurm logs).
public struct SweepManifest: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var index: Int
        public var key: String
        public var title: String
        public var coordinates: [String: String]
    }

    public var spec: String
    public var specPath: String
    /// The spec's `report:` settings and row order (absent in manifests written before they were kept).
    public var report: ReportSettings?
    public var order: ReportOrder?
    public var cells: [Entry]

    public static func url(in store: ResultStore) -> URL { store.root.appendingPathComponent("sweep.json") }

    public init(spec: ExperimentSpec, specPath: String, cells: [Cell]) {
        self.spec = spec.name
        self.specPath = specPath
        self.report = spec.report
        self.order = spec.reportOrder
        self.cells = cells.map { Entry(index: $0.index, key: $0.key, title: $0.title, coordinates: $0.coordinates) }
    }

    public func save(to store: ResultStore) throws {
        try ResultStore.writeAtomically(try ResultStore.encoder.encode(self), to: Self.url(in: store))
    }

    public static func load(from store: ResultStore) -> SweepManifest? {
        guard let data = try? Data(contentsOf: url(in: store)) else { return nil }
        return try? ResultStore.decoder.decode(SweepManifest.self, from: data)
    }

    /// Cells of the manifest without a record: failed Slurm tasks that died before writing one.
    public func missing(in store: ResultStore) -> [(entry: Entry, log: String?)] {
        cells.filter { !FileManager.default.fileExists(atPath: store.recordURL($0.key).path) }.map { entry in
            let log = store.logs.appendingPathComponent("cell-\(entry.index).log")
            return (entry, FileManager.default.fileExists(atPath: log.path) ? log.path : nil)
        }
    }
}
