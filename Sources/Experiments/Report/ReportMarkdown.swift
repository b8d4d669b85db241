import Foundation

// The report's formats, one file each (ReportCSV, ReportLaTeX, ReportHTML, ReportTerminal), and the
// Markdown file with the headings they share. Every string that comes from a record goes through
// `ReportEscape` for its format; numbers and headings are ours.

extension Report {
    var title: String { "HippoPEFT report: \(spec)" }

    var summaryLine: String {
        var text = "\(recordCount) cell record\(recordCount == 1 ? "" : "s"), \(failedCells) failed"
        if !superseded.isEmpty { text += "; \(superseded.count) older record\(superseded.count == 1 ? "" : "s") of the same cells ignored" }
        return text
    }

    /// Which BLAS kernels made the records, on which CPUs: records agree bit for bit only under the same
    /// kernels (docs/REPRODUCING.md), so a table mixing them says so. Nil when no record states it.
    public var machinesText: String? {
        var cells: [String: Int] = [:], cpus: [String: Set<String>] = [:], unknown = 0
        for record in records {
            guard let blas = record.timing?.blas else { unknown += 1; continue }
            cells[blas, default: 0] += 1
            if let cpu = record.timing?.cpu { cpus[blas, default: []].insert(cpu) }
        }
        guard !cells.isEmpty else { return nil }
        var parts = cells.keys.sorted().map { blas in
            "\(blas), \(cells[blas]!) cell\(cells[blas] == 1 ? "" : "s")"
                + (cpus[blas].map { " (" + $0.sorted().joined(separator: "; ") + ")" } ?? "")
        }
        if unknown > 0 { parts.append("not recorded, \(unknown) older cell\(unknown == 1 ? "" : "s")") }
        return "BLAS kernels of the records (results agree bit for bit only under the same kernels): "
            + parts.joined(separator: "; ")
    }

    func poolSize(_ table: Table) -> Int? { table.budget == "all" ? table.rows.compactMap(\.trainingCases).max() : nil }

    func tableTitle(_ table: Table) -> String {
        "\(table.dataset) · \(ReportHeading.budget(table.budget, pool: poolSize(table)))"
    }

    public func markdown(plotFiles: [String: (budget: String?, parameters: String?)] = [:]) -> String {
        let e = ReportEscape.markdown
        var out = "# \(e(title))\n\n\(e(summaryLine)).\n\n\(e(statisticsText))\n"
        if let machines = machinesText { out += "\n\(e(machines)).\n" }
        for dataset in datasets {
            out += "\n## \(e(dataset))\n"
            for table in tables(of: dataset) {
                out += "\n### \(e(ReportHeading.budget(table.budget, pool: poolSize(table))))\n\n"
                out += "Reference for p: \(e(referenceText(table))).\n\n"
                let multiple = table.backbones.count > 1
                var header = [ReportHeading.method, ReportHeading.dice, ReportHeading.hdMax, ReportHeading.hd95,
                              ReportHeading.parameters, ReportHeading.percent, ReportHeading.time, ReportHeading.memory,
                              ReportHeading.cases, ReportHeading.p(table)].map(e)
                if multiple { header.insert("Backbone", at: 0) }
                out += "| " + header.joined(separator: " | ") + " |\n"
                out += "|" + (multiple ? ":---|" : "") + ":---|" + String(repeating: "---:|", count: 9) + "\n"
                for row in table.rows {
                    func cell(_ text: String, _ column: Column, escape: Bool = true) -> String {
                        var value = escape ? e(text) : text
                        if row.best.contains(column) { value = "**\(value)**" }
                        if let marks = row.marks[column] { value += "<sup>" + marks.map(String.init).joined(separator: ",") + "</sup>" }
                        return value
                    }
                    let t = RowText(row)
                    var cells: [String]
                    if row.failed {
                        cells = [cell(t.method, .method), "failed"] + Array(repeating: "—", count: 8)
                    } else {
                        cells = [cell(t.method, .method), cell(t.dice, .dice), cell(t.hdMax, .hdMax), cell(t.hd95, .hd95),
                                 e(t.parameters), e(t.percent), e(t.time), e(t.memory), e(t.cases), cell(t.p, .p)]
                    }
                    if multiple { cells.insert(e(row.backbone), at: 0) }
                    out += "| " + cells.joined(separator: " | ") + " |\n"
                }
                if !table.notes.isEmpty {
                    out += "\n" + table.notes.enumerated().map { "\($0.offset + 1). \(e($0.element))" }.joined(separator: "\n") + "\n"
                }
            }
            if let files = plotFiles[dataset] {
                out += "\n"
                if let name = files.budget { out += "![Dice vs training budget, \(e(dataset))](\(name))\n" }
                if let name = files.parameters { out += "![Dice vs trainable parameters, \(e(dataset))](\(name))\n" }
            }
        }
        return out
    }
}
