import Foundation

// The compact tables `harness run` and `harness report` print.
extension Report {
    /// Compact plain-text tables (printed at the end of `harness run` and by `harness report`).
    public func terminalSummary() -> String {
        let s = ReportEscape.terminal
        var out = "\(s(title)) — \(summaryLine)\n"
        if tables.isEmpty { return out + "no cell records\n" }
        for table in tables {
            out += "\n\(s(tableTitle(table)))   reference for p: \(s(referenceText(table)))\n"
            let multiple = table.backbones.count > 1
            var grid: [[String]] = [[multiple ? "backbone" : nil, "method", "Dice", "HD95 (max HD)", "HD95", "trainable", "cases×seeds", "p"].compactMap { $0 }]
            for row in table.rows {
                let t = RowText(row, pm: " ± ", times: "×", dash: "-")
                let method = s(t.method) + (row.marks[.method].map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "")
                func best(_ text: String, _ column: Column) -> String { row.best.contains(column) ? text + " ◀" : text }
                var cells: [String] = row.failed
                    ? [method, "failed", "", "", "", "", ""]
                    : [method, best(t.dice, .dice), best(t.hdMax, .hdMax), best(t.hd95, .hd95),
                       "\(t.parameters) (\(t.percent))", t.cases, t.p]
                if multiple { cells.insert(s(row.backbone), at: 0) }
                grid.append(cells)
            }
            let widths = (0..<grid[0].count).map { c in grid.map { $0[c].count }.max()! }
            for line in grid {
                out += "  " + line.enumerated().map { c, text in
                    let pad = String(repeating: " ", count: widths[c] - text.count)
                    return c <= (multiple ? 1 : 0) ? text + pad : pad + text
                }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
            }
            for (i, note) in table.notes.enumerated() { out += "  [\(i + 1)] \(s(note))\n" }
        }
        return out + "\n◀ best of the table; * p < 0.05 (paired Wilcoxon of per-case Dice vs the reference); mean ± SD over cases of all seeds\n"
    }
}

/// The compact terminal tables of `records` (the spec name is taken from the records).
public func terminalSummary(records: [CellRecord], settings: ReportSettings = ReportSettings(),
                            order: ReportOrder = ReportOrder()) -> String {
    let specs = records.map(\.spec).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    return Report(records: records, spec: specs.joined(separator: ", "), settings: settings, order: order).terminalSummary()
}
