import Foundation

// Writing a report's formats into a folder, each file atomically.

extension Report {
    /// Writes the formats of `settings.formats` into `folder` (created if needed), each file atomically.
    /// SVG plots are written as `dice-vs-budget-<data set>.svg` and `dice-vs-parameters-<data set>.svg`
    /// when `svg` is among the formats. Returns the files written.
    public func write(to folder: URL) throws -> [URL] {
        try ResultStore.createFolder(folder)
        var written: [URL] = []
        func put(_ text: String, _ name: String) throws {
            let url = folder.appendingPathComponent(name)
            try ResultStore.writeAtomically(Data(text.utf8), to: url)
            written.append(url)
        }
        let formats = Set(settings.formats)
        var plotFiles: [String: (budget: String?, parameters: String?)] = [:]
        if formats.contains(.svg) {
            var used = Set<String>()
            for dataset in datasets {
                var slug = fileSlug(dataset)
                var k = 2
                while used.contains(slug) { slug = fileSlug(dataset) + "-\(k)"; k += 1 }
                used.insert(slug)
                var files: (budget: String?, parameters: String?) = (nil, nil)
                if let plot = budgetPlot(dataset: dataset) {
                    files.budget = "dice-vs-budget-\(slug).svg"
                    try put(plot.render(standalone: true), files.budget!)
                }
                if let plot = parameterPlot(dataset: dataset) {
                    files.parameters = "dice-vs-parameters-\(slug).svg"
                    try put(plot.render(standalone: true), files.parameters!)
                }
                plotFiles[dataset] = files
            }
        }
        if formats.contains(.markdown) { try put(markdown(plotFiles: plotFiles), "report.md") }
        if formats.contains(.csv) {
            try put(csv(), "report.csv")
            try put(caseMetricsCSV(), "cases.csv")
        }
        if formats.contains(.latex) { try put(latex(), "report.tex") }
        if formats.contains(.html) { try put(html(), "report.html") }
        return written
    }
}

/// Builds the report of `records` and writes the formats of `settings.formats` into `folder`
/// (`report.md`, `report.csv`, `report.tex`, `report.html`, SVG plots). Returns the files written.
/// `order` sets the order of backbones, data sets and methods (default: first appearance in `records`).
@discardableResult
public func writeReport(records: [CellRecord], spec: String, settings: ReportSettings,
                        order: ReportOrder = ReportOrder(), to folder: URL) throws -> [URL] {
    try Report(records: records, spec: spec, settings: settings, order: order).write(to: folder)
}
