import Foundation

// The four file formats and the terminal table. Every string that comes from a record goes through
// `ReportEscape` for its format; numbers and headings are ours.

extension Report {
    var title: String { "HippoPEFT report: \(spec)" }

    var summaryLine: String {
        var text = "\(recordCount) cell record\(recordCount == 1 ? "" : "s"), \(failedCells) failed"
        if !superseded.isEmpty { text += "; \(superseded.count) older record\(superseded.count == 1 ? "" : "s") of the same cells ignored" }
        return text
    }

    func poolSize(_ table: Table) -> Int? { table.budget == "all" ? table.rows.compactMap(\.trainingCases).max() : nil }

    func tableTitle(_ table: Table) -> String {
        "\(table.dataset) · \(ReportHeading.budget(table.budget, pool: poolSize(table)))"
    }

    // MARK: Markdown

    public func markdown(plotFiles: [String: (budget: String?, parameters: String?)] = [:]) -> String {
        let e = ReportEscape.markdown
        var out = "# \(e(title))\n\n\(e(summaryLine)).\n\n\(e(statisticsText))\n"
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

    // MARK: CSV

    public static let csvColumns = [
        "spec", "dataset", "budget", "backbone", "method", "method_name", "status", "seeds_done", "seeds_failed",
        "test_cases", "case_results",
        "dice_mean", "dice_sd", "dice_n", "dice_undefined",
        "hd_max_mean", "hd_max_sd", "hd_max_n", "hd_max_undefined",
        "hd95_mean", "hd95_sd", "hd95_n", "hd95_undefined",
        "dice_error_bar", "trainable_parameters", "backbone_parameters", "used_parameters", "trainable_percent",
        "training_seconds_mean", "peak_memory_mb_max", "training_cases",
        "reference", "is_reference", "wilcoxon_n", "wilcoxon_zero_differences", "wilcoxon_statistic", "wilcoxon_p",
        "wilcoxon_method", "significant", "best_dice", "best_hd_max", "best_hd95", "failure",
    ]

    /// One row per method × data set × budget × backbone; numbers in shortest round-trip form, empty
    /// when undefined; strings quoted as RFC 4180 needs.
    public func csv() -> String {
        var lines = [Self.csvColumns.joined(separator: ",")]
        let m = ReportNumber.machine
        for table in tables {
            for row in table.rows {
                let w = row.wilcoxon
                var fields: [String] = [spec, table.dataset, table.budget, row.backbone, row.method, row.methodName, row.status.rawValue]
                fields.append(row.seeds.map(String.init).joined(separator: " "))
                fields.append(row.failures.map { String($0.seed) }.joined(separator: " "))
                fields += [String(row.testCases), String(row.caseResults)]
                for metric in [row.dice, row.hdMax, row.hd95] {
                    fields += [m(metric.mean), m(metric.sd), String(metric.count), String(metric.undefined)]
                }
                fields.append(m(row.diceErrorBar))
                fields.append(row.parameters.map { String($0.trainable) } ?? "")
                fields.append(row.parameters.map { String($0.backbone) } ?? "")
                fields.append(row.parameters?.used.map(String.init) ?? "")
                fields += [m(row.parameters?.percentOfUsed), m(row.trainingSeconds), m(row.peakMemoryMB)]
                fields.append(row.trainingCases.map(String.init) ?? "")
                fields.append(row.isReference ? row.method : (row.reference ?? ""))
                fields.append(row.isReference ? "1" : "0")
                fields.append(w.map { String($0.n) } ?? "")
                fields.append(w.map { String($0.zeros) } ?? "")
                fields += [m(w?.statistic), m(w?.pValue), w?.method.rawValue ?? ""]
                fields.append(w == nil ? "" : (row.significant ? "1" : "0"))
                for column in [Column.dice, .hdMax, .hd95] { fields.append(row.best.contains(column) ? "1" : "0") }
                fields.append(row.failures.map { "seed \($0.seed): \($0.message)" }.joined(separator: "; "))
                lines.append(fields.map(ReportEscape.csv).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: LaTeX

    /// A standalone document (`pdflatex report.tex`) with one booktabs table per data set and budget;
    /// copy a `tabular` into a paper as it is (needs `booktabs`, and `[T1]{fontenc}` for the escapes).
    public func latex() -> String {
        let e = ReportEscape.latex
        var out = """
        % \(e(title).replacingOccurrences(of: "\n", with: " "))
        % Generated by HippoPEFT from cell records. Needs booktabs; T1 font encoding for escaped symbols.
        \\documentclass[10pt]{article}
        \\usepackage[T1]{fontenc}
        \\usepackage[utf8]{inputenc}
        \\usepackage[landscape,margin=1.5cm]{geometry}
        \\usepackage{booktabs}
        \\begin{document}
        \\section*{\(e(title))}
        \(e(summaryLine)).

        \\noindent\\footnotesize \(latexProse(statisticsText))\\normalsize

        """
        for table in tables {
            let multiple = table.backbones.count > 1
            out += "\n\\begin{table}[ht]\n\\centering\\small\\setlength{\\tabcolsep}{4pt}\n"
            out += "\\caption{\(e(tableTitle(table))). Reference for $p$: \(e(referenceText(table))).}\n"
            out += "\\begin{tabular}{l" + String(repeating: "r", count: 9) + "}\n\\toprule\n"
            // Two-line headings as nested tabulars (no extra package needed).
            func stacked(_ first: String, _ second: String) -> String {
                "\\begin{tabular}[b]{@{}r@{}}\(first)\\\\\(second)\\end{tabular}"
            }
            let header = ["Method", stacked("Dice", "mean $\\pm$ SD"), stacked("HD95 (paper;", "max HD), mm"), stacked("HD95", "(true), mm"),
                          stacked("Trainable", "parameters"), stacked("\\% of used", "backbone"), stacked("Training", "time"),
                          stacked("Peak", "memory"), stacked("Test cases", "$\\times$ seeds"),
                          stacked("$p$ (Wilcoxon)", "vs " + e(Report.shorten(ReportHeading.against(table), 24)))]
            out += header.joined(separator: " & ") + " \\\\\n\\midrule\n"
            for (b, backbone) in table.backbones.enumerated() {
                if multiple {
                    if b > 0 { out += "\\midrule\n" }
                    out += "\\multicolumn{10}{l}{\\textit{\(e(backbone))}} \\\\\n"
                }
                for row in table.rows(of: backbone) {
                    let t = RowText(row, pm: " $\\pm$ ", times: " $\\times$ ", dash: "--")
                    func cell(_ text: String, _ column: Column, escaped: Bool = false) -> String {
                        var value = escaped ? text : e(text)
                        if row.best.contains(column) { value = "\\textbf{\(value)}" }
                        if let marks = row.marks[column] { value += "\\textsuperscript{" + marks.map(String.init).joined(separator: ",") + "}" }
                        return value
                    }
                    var cells: [String]
                    if row.failed {
                        cells = [cell(t.method, .method), "\\multicolumn{9}{l}{failed}"]
                    } else {
                        cells = [cell(t.method, .method), cell(t.dice, .dice, escaped: true), cell(t.hdMax, .hdMax, escaped: true),
                                 cell(t.hd95, .hd95, escaped: true), t.parameters, e(t.percent), t.time, t.memory, t.cases,
                                 cell(t.p.replacingOccurrences(of: "<", with: "$<$"), .p, escaped: true)]
                    }
                    out += cells.joined(separator: " & ") + " \\\\\n"
                }
            }
            out += "\\bottomrule\n\\end{tabular}\n"
            if !table.notes.isEmpty {
                out += "\n\\smallskip\\begin{minipage}{0.95\\linewidth}\\footnotesize\n"
                out += table.notes.enumerated().map { "\\textsuperscript{\($0.offset + 1)} \(e($0.element))" }.joined(separator: "\\\\\n")
                out += "\n\\end{minipage}\n"
            }
            out += "\\end{table}\n"
        }
        return out + "\n\\end{document}\n"
    }

    /// Our own prose with ±, ≤, ×, quotes written for LaTeX.
    private func latexProse(_ text: String) -> String {
        ReportEscape.latex(text)
            .replacingOccurrences(of: "±", with: "$\\pm$")
            .replacingOccurrences(of: "≤", with: "$\\le$")
            .replacingOccurrences(of: "\\textquotedbl{}", with: "''")
    }

    // MARK: HTML

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
        <p class="statistics">\(h(statisticsText))</p>

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

    // MARK: Terminal

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

    // MARK: Files

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

/// The compact terminal tables of `records` (the spec name is taken from the records).
public func terminalSummary(records: [CellRecord], settings: ReportSettings = ReportSettings(),
                            order: ReportOrder = ReportOrder()) -> String {
    let specs = records.map(\.spec).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    return Report(records: records, spec: specs.joined(separator: ", "), settings: settings, order: order).terminalSummary()
}
