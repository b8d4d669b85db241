import Foundation

// report.html: the tables and inline plots in one self-contained page.
extension Report {
    static let css = """
    body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1d1d1d; margin: 20px 24px; max-width: 1352px; font-size: 14px; }
    h1 { font-size: 24px; margin: 0 0 4px 0; }
    h2 { font-size: 20px; margin: 28px 0 8px 0; border-bottom: 2px solid #0072B2; padding-bottom: 3px; }
    h3 { font-size: 16px; margin: 18px 0 6px 0; }
    p.meta { color: #555555; margin: 0 0 10px 0; }
    p.statistics { font-size: 12.5px; color: #333333; line-height: 1.45; max-width: 1300px; }
    p.reference { margin: 2px 0 6px 0; font-size: 13px; color: #333333; }
    table { border-collapse: collapse; font-size: 13.5px; margin: 4px 0; }
    th, td { padding: 4px 10px; border-bottom: 1px solid #dddddd; white-space: nowrap; text-align: left; }
    thead th { border-top: 2px solid #333333; border-bottom: 1.5px solid #333333; background: #f3f6f9; font-weight: 600; vertical-align: bottom; }
    tbody tr:last-child td { border-bottom: 2px solid #333333; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    th.num { text-align: right; }
    td.method { font-weight: 600; }
    td.failed { color: #b00020; font-style: italic; }
    tr.group th { text-align: left; background: #fafafa; font-style: italic; font-weight: 600; }
    tr.reference td { background: #f4f9f4; }
    b { color: #003f7f; }
    sup { font-size: 10px; color: #b00020; }
    ol.notes { font-size: 12.5px; color: #333333; margin: 4px 0 8px 0; padding-left: 22px; }
    div.plots { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 14px; }
    figure { margin: 0; border: 1px solid #dddddd; }
    details { margin: 2px 0 10px 0; font-size: 12.5px; }
    summary { color: #0072B2; }
    table.cases { font-size: 12px; }
    table.cases td, table.cases th { padding: 2px 8px; }
    """

    /// One self-contained page: inline CSS, tables, inline SVG plots; no scripts, no external resources.
    /// Written as well-formed XML (XHTML syntax), so an XML parser can check it.
    public func html() -> String {
        let h = ReportEscape.html
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(h(title))</title>
        <style>
        \(Self.css)
        </style>
        </head>
        <body>
        <h1>\(h(title))</h1>
        <p class="meta">\(h(summaryLine)).</p>
        <p class="statistics">\(h(statisticsText))</p>\(machinesText.map { "\n<p class=\"meta\">\(h($0)).</p>" } ?? "")

        """
        for dataset in datasets {
            out += "<section>\n<h2>Data set: \(h(dataset))</h2>\n"
            for table in tables(of: dataset) {
                out += "<h3>\(h(ReportHeading.budget(table.budget, pool: poolSize(table))))</h3>\n"
                out += "<p class=\"reference\">Reference for p: \(h(referenceText(table)))</p>\n"
                out += htmlTable(table)
            }
            let budget = budgetPlot(dataset: dataset), parameters = parameterPlot(dataset: dataset)
            if budget != nil || parameters != nil {
                out += "<div class=\"plots\">\n"
                for plot in [budget, parameters].compactMap({ $0 }) { out += "<figure>\n" + plot.render(standalone: false) + "</figure>\n" }
                out += "</div>\n"
            }
            out += "</section>\n"
        }
        return out + "</body>\n</html>\n"
    }

    private func htmlTable(_ table: Table) -> String {
        let h = ReportEscape.html
        let multiple = table.backbones.count > 1
        var out = "<table>\n<thead><tr><th>Method</th>"
        // Two-line headings keep the table within a 1400-pixel window.
        let headings: [(String, String)] = [
            ("Dice", "mean ± SD"), ("HD95 (paper;", "max HD), mm"), ("HD95 (true),", "mm"), ("Trainable", "parameters"),
            ("% of used", "backbone"), ("Training", "time"), ("Peak", "memory"), ("Test cases", "× seeds"),
            ("p (Wilcoxon)", "vs " + ReportHeading.against(table)),
        ]
        for (first, second) in headings { out += "<th class=\"num\">\(h(first))<br/>\(h(second))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for backbone in table.backbones {
            if multiple { out += "<tr class=\"group\"><th colspan=\"10\">\(h(backbone))</th></tr>\n" }
            for row in table.rows(of: backbone) {
                let t = RowText(row)
                func cell(_ text: String, _ column: Column, classes: String = "num") -> String {
                    var value = h(text)
                    if row.best.contains(column) { value = "<b>\(value)</b>" }
                    if let marks = row.marks[column] { value += "<sup>" + marks.map(String.init).joined(separator: ",") + "</sup>" }
                    return "<td class=\"\(classes)\">\(value)</td>"
                }
                out += row.isReference ? "<tr class=\"reference\">" : "<tr>"
                out += cell(t.method, .method, classes: "method")
                if row.failed {
                    out += "<td class=\"failed\" colspan=\"9\">failed (see note)</td>"
                } else {
                    out += cell(t.dice, .dice) + cell(t.hdMax, .hdMax) + cell(t.hd95, .hd95) + cell(t.parameters, .parameters)
                        + cell(t.percent, .parameters) + cell(t.time, .time) + cell(t.memory, .memory) + cell(t.cases, .cases) + cell(t.p, .p)
                }
                out += "</tr>\n"
            }
        }
        out += "</tbody>\n</table>\n"
        if !table.notes.isEmpty {
            out += "<ol class=\"notes\">\n" + table.notes.map { "<li>\(h($0))</li>\n" }.joined() + "</ol>\n"
        }
        return out + htmlCaseTable(table)
    }

    /// Per-case Dice (mean over seeds) of every finished row, folded away in a `<details>` element.
    private func htmlCaseTable(_ table: Table) -> String {
        let h = ReportEscape.html
        let rows = table.rows.filter { !$0.failed }
        let cases = Set(rows.flatMap(\.caseMeanDice.keys)).sorted()
        guard !cases.isEmpty else { return "" }
        let multiple = table.backbones.count > 1
        var out = "<details><summary>Per-case Dice (mean over seeds), \(cases.count) test cases</summary>\n<table class=\"cases\">\n<thead><tr><th>Case</th>"
        for row in rows { out += "<th class=\"num\">\(h(multiple ? "\(row.backbone) · \(row.method)" : row.method))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for id in cases {
            out += "<tr><td>\(h(id))</td>"
            for row in rows { out += "<td class=\"num\">\(row.caseMeanDice[id].map { ReportNumber.fixed($0, 3) } ?? "—")</td>" }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n</details>\n"
    }
}
