import Experiments
import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The report files: escaping of record strings in every format, a self-contained HTML page,
/// well-formed SVG, machine-readable CSV, the files written, and the terminal table.
final class ReportFormatTests: XCTestCase {
    private func hostileReport(settings: ReportSettings = ReportSettings()) throws -> Report {
        var records = Hostile.records(try ReportFixture.load().records)
        for i in records.indices { records[i].dataset = "hippo " + Hostile.quotes }
        return Report(records: records, spec: "spec " + Hostile.script, settings: settings)
    }

    func testHTMLEscapesRecordStrings() throws {
        let html = try hostileReport().html()
        for needle in ["<script", "<img", "alert(1)</"] {
            XCTAssertFalse(html.lowercased().contains(needle), "raw markup '\(needle)' reached the page")
        }
        XCTAssertNil(html.range(of: "<[^>]*onerror", options: .regularExpression), "an event handler attribute reached the page")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the method label is shown, escaped")
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "the case id is shown, escaped")
        XCTAssertTrue(html.contains("a&amp;b &quot;q&quot; &#39;x&#39;, y"))
        XCTAssertFalse(html.contains("\u{1B}"), "control characters are replaced")

        // The whole page is well-formed XML: parse it and look at every element and attribute.
        let elements = try XMLCheck.parse(html)
        XCTAssertFalse(elements.names.contains("script"))
        XCTAssertFalse(elements.names.contains("img"))
        XCTAssertFalse(elements.names.contains("iframe"))
        XCTAssertTrue(elements.attributes.allSatisfy { !$0.lowercased().hasPrefix("on") }, "\(elements.attributes)")
        XCTAssertTrue(elements.text.contains(Hostile.script), "the label survives as text")
        XCTAssertGreaterThanOrEqual(elements.names.filter { $0 == "svg" }.count, 2)
    }

    func testHTMLIsSelfContained() throws {
        let html = try hostileReport().html()
        for forbidden in ["http://", "https://", "<link", "<script", "@import", "url(", "<iframe", "<object", "<embed", "javascript:"] {
            XCTAssertFalse(html.lowercased().contains(forbidden), "the page refers to '\(forbidden)'")
        }
        // No tag has a src or href attribute (the hostile case id shows "src=" only as escaped text).
        XCTAssertNil(html.range(of: "<[^>]*\\b(src|href|srcset|xlink:href)\\s*=", options: [.regularExpression, .caseInsensitive]))
        let parsed = try XMLCheck.parse(html)
        XCTAssertTrue(parsed.attributes.allSatisfy { !["src", "href", "srcset", "xlink:href", "action", "data"].contains($0.lowercased()) })
        XCTAssertTrue(html.contains("&lt;img src=x"), "the hostile case id is on the page, escaped")
        XCTAssertTrue(html.contains("<style>"))
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\"/>"))
    }

    func testMarkdownEscapesRecordStrings() throws {
        let markdown = try hostileReport().markdown()
        XCTAssertFalse(markdown.contains("<script"))
        XCTAssertFalse(markdown.contains("<img"))
        XCTAssertTrue(markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(markdown.contains("a&amp;b \"q\" 'x', y"))
        XCTAssertFalse(markdown.contains("\u{1B}"))
        // Table rows keep their column count: a label with | or a newline cannot add cells.
        XCTAssertEqual(ReportEscape.markdown("a|b\nc*d_e"), "a\\|b c\\*d\\_e")
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| ") }
        for row in rows {
            let unescaped = row.replacingOccurrences(of: "\\|", with: "")
            XCTAssertEqual(unescaped.filter { $0 == "|" }.count, 11, String(row))
        }
    }

    /// Records made under different BLAS kernels agree only to the last bits: the Markdown and HTML
    /// reports name each kernel with its cell count and CPUs, and count the records that do not say.
    func testReportNamesTheBLASKernelsOfItsRecords() throws {
        var records = try ReportFixture.load().records
        let timed = records.indices.filter { records[$0].timing != nil }
        XCTAssertGreaterThanOrEqual(timed.count, 5)
        for (n, i) in timed.enumerated() {
            records[i].timing!.blas = n < 3 ? "OpenBLAS 0.3.21 Haswell" : "OpenBLAS 0.3.21 SkylakeX"
            records[i].timing!.cpu = n < 3 ? "AMD EPYC 7B13" : Hostile.script
        }
        let report = Report(records: records, spec: "s")
        XCTAssertNil(Report(records: try ReportFixture.load().records, spec: "s").machinesText, "no record states its kernels")
        let untimed = records.count - timed.count
        XCTAssertEqual(report.machinesText, "BLAS kernels of the records (results agree bit for bit only under the same kernels): "
            + "OpenBLAS 0.3.21 Haswell, 3 cells (AMD EPYC 7B13); OpenBLAS 0.3.21 SkylakeX, \(timed.count - 3) cells (\(Hostile.script)); "
            + "not recorded, \(untimed) older cell\(untimed == 1 ? "" : "s")")
        XCTAssertTrue(report.markdown().contains("OpenBLAS 0.3.21 Haswell, 3 cells (AMD EPYC 7B13)"))
        let html = report.html()
        XCTAssertTrue(html.contains("SkylakeX, \(timed.count - 3) cells (&lt;script&gt;"), "the CPU name is escaped")
        XCTAssertFalse(html.contains(Hostile.script))
    }

    func testLaTeXEscapesRecordStrings() throws {
        let latex = try hostileReport().latex()
        XCTAssertFalse(latex.contains("<script"))
        XCTAssertTrue(latex.contains("\\textless{}script\\textgreater{}alert(1)\\textless{}/script\\textgreater{}"))
        XCTAssertTrue(latex.contains("50\\% of \\textbackslash{}input\\{x\\} \\$y\\$ \\#1 a\\_b \\{c\\} \\textasciitilde{}d \\textasciicircum{}e \\& f"))
        XCTAssertFalse(latex.contains("\\input{x}"))
        XCTAssertFalse(latex.contains("\u{1B}"))
        XCTAssertEqual(ReportEscape.latex("a\nb"), "a b")
        // Structure: every tabular opened is closed, each table has booktabs rules.
        XCTAssertEqual(latex.components(separatedBy: "\\begin{tabular}").count, latex.components(separatedBy: "\\end{tabular}").count)
        XCTAssertEqual(latex.components(separatedBy: "\\toprule").count - 1, 3)
        XCTAssertEqual(latex.components(separatedBy: "\\bottomrule").count - 1, 3)
        XCTAssertTrue(latex.contains("\\usepackage{booktabs}"))
        XCTAssertTrue(latex.hasSuffix("\\end{document}\n"))
        // Braces balance once escaped braces are removed.
        let bare = latex.replacingOccurrences(of: "\\{", with: "").replacingOccurrences(of: "\\}", with: "")
        XCTAssertEqual(bare.filter { $0 == "{" }.count, bare.filter { $0 == "}" }.count)
    }

    func testCSVQuotesRecordStringsAndKeepsNumbersExact() throws {
        let fixture = try ReportFixture.load()
        let report = try hostileReport()
        let rows = parseCSV(report.csv())
        let header = rows[0]
        XCTAssertEqual(header, Report.csvColumns)
        XCTAssertEqual(rows.count, 1 + 15, "one row per method × data set × budget × backbone")
        XCTAssertTrue(rows.allSatisfy { $0.count == header.count })
        let column = { (name: String) in header.firstIndex(of: name)! }
        // Strings round-trip exactly (control characters become spaces).
        XCTAssertEqual(Set(rows.dropFirst().map { $0[column("method")] }), ["full", Hostile.quotes, "lora-r4", "adapter", Hostile.script])
        XCTAssertEqual(Set(rows.dropFirst().map { $0[column("dataset")] }), ["hippo " + Hostile.quotes])
        let failure = rows.first { $0[column("status")] == "failed" }![column("failure")]
        XCTAssertTrue(failure.contains(Hostile.latex), failure)
        XCTAssertTrue(failure.contains("bell  escape [31m red\nnewline"), failure)
        // Numbers parse back to the same Doubles.
        for row in rows.dropFirst() where row[column("status")] != "failed" {
            let method = row[column("method")] == Hostile.script ? "hyps" : row[column("method")] == Hostile.quotes ? "linear-probe" : row[column("method")]
            let want = fixture.expected.budgets[row[column("budget")]]!.rows[method]!
            let mean = try XCTUnwrap(Double(row[column("dice_mean")]))
            assertClose(mean, want.dice!.mean, relative: 1e-15)
            if let test = want.wilcoxon {
                assertClose(Double(row[column("wilcoxon_p")]), test.p, relative: 1e-10)
                XCTAssertEqual(row[column("wilcoxon_method")], test.method)
            }
            XCTAssertEqual(Int(row[column("trainable_parameters")]), want.trainable)
        }
        XCTAssertEqual(ReportEscape.csv("plain"), "plain")
        XCTAssertEqual(ReportEscape.csv("a,b"), "\"a,b\"")
        XCTAssertEqual(ReportEscape.csv("say \"hi\""), "\"say \"\"hi\"\"\"")
    }

    func testTerminalSummary() throws {
        let text = terminalSummary(records: Hostile.records(try ReportFixture.load().records))
        XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "no escape sequences reach the terminal")
        XCTAssertTrue(text.contains("fixture-study"))
        XCTAssertTrue(text.contains("msd-hippocampus · 5 training cases"))
        XCTAssertTrue(text.contains("failed"))
        XCTAssertTrue(text.contains("◀"))
        XCTAssertTrue(text.contains("1.23 M (100 %)"))
        XCTAssertTrue(text.contains("] adapter: failed (2 of 2 seeds)"))
        XCTAssertTrue(text.contains("?[31m"), "ESC shown as ?")
        XCTAssertEqual(terminalSummary(records: []).contains("no cell records"), true)
        print(terminalSummary(records: try ReportFixture.load().records))
    }

    func testSVGPlotsAreWellFormed() throws {
        let report = try hostileReport()
        let dataset = report.datasets[0]
        let budget = try XCTUnwrap(report.budgetPlot(dataset: dataset))
        let parameters = try XCTUnwrap(report.parameterPlot(dataset: dataset))
        for (plot, name) in [(budget, "budget"), (parameters, "parameters")] {
            for standalone in [true, false] {
                let svg = plot.render(standalone: standalone)
                let parsed = try XMLCheck.parse(svg)
                XCTAssertEqual(parsed.names.first, "svg", name)
                XCTAssertFalse(parsed.names.contains("script"), name)
                XCTAssertTrue(parsed.text.contains(String(Hostile.script.prefix(12))), "\(name): labels are text, escaped")
                XCTAssertEqual(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""), standalone)
                XCTAssertTrue(parsed.text.contains("Dice (mean ± SD)"), name)
            }
        }
        let budgetText = try XMLCheck.parse(budget.render(standalone: true))
        for label in ["5", "10", "all (26)", "training cases (budget)", "full", "lora-r4", "adapter"] {
            XCTAssertTrue(budgetText.texts.contains(label), "budget plot lacks '\(label)'")
        }
        // One line per method with two or more budgets (adapter has two: 10 and all).
        XCTAssertEqual(budgetText.names.filter { $0 == "polyline" }.count, 5)
        let parameterText = try XMLCheck.parse(parameters.render(standalone: true))
        for label in ["1k", "10k", "100k", "1M", "10M", "trainable parameters (log scale)"] {
            XCTAssertTrue(parameterText.texts.contains(label), "parameter plot lacks '\(label)'")
        }
    }

    func testWriteReportWritesEachFormatAtomically() throws {
        let folder = try temporaryFolder("report")
        defer { try? FileManager.default.removeItem(at: folder) }
        let records = try ReportFixture.load().records
        let written = try writeReport(records: records, spec: "fixture-study", settings: ReportSettings(), to: folder)
        XCTAssertEqual(Set(written.map(\.lastPathComponent)), [
            "report.md", "report.csv", "cases.csv", "report.tex", "report.html",
            "dice-vs-budget-msd-hippocampus.svg", "dice-vs-parameters-msd-hippocampus.svg",
        ])
        let listing = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(Set(listing), Set(written.map(\.lastPathComponent)), "no temporary files left behind")
        for url in written where url.pathExtension == "svg" { _ = try XMLCheck.parse(String(contentsOf: url, encoding: .utf8)) }
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("](dice-vs-budget-msd-hippocampus.svg)"))

        let only = try temporaryFolder("report-csv")
        defer { try? FileManager.default.removeItem(at: only) }
        let csvOnly = try writeReport(records: records, spec: "s", settings: ReportSettings(formats: [.csv]), to: only.appendingPathComponent("nested"))
        XCTAssertEqual(csvOnly.map(\.lastPathComponent), ["report.csv", "cases.csv"])

        // A data set name cannot steer plot files out of the folder.
        var hostile = records
        for i in hostile.indices { hostile[i].dataset = "../../etc/x y" }
        let names = try writeReport(records: hostile, spec: "s", settings: ReportSettings(formats: [.svg]), to: only).map(\.lastPathComponent)
        XCTAssertEqual(names, ["dice-vs-budget-______etc_x_y.svg", "dice-vs-parameters-______etc_x_y.svg"])
    }

    func testCaseCSVHasOneRowPerCaseAndLabelOfEachFinishedCell() throws {
        let records = try ReportFixture.load().records
        let lines = Report(records: records, spec: "s").caseMetricsCSV().components(separatedBy: "\r\n").dropLast()
        XCTAssertEqual(lines.first, Report.caseCSVColumns.joined(separator: ","))
        let done = records.filter { $0.status == .done }
        let expected = done.reduce(0) { sum, r in sum + r.cases.reduce(0) { $0 + $1.metrics.keys.count } }
        XCTAssertGreaterThan(expected, 0)
        XCTAssertEqual(lines.count - 1, expected)
        // The first data row carries its case's Dice exactly as recorded.
        let first = done[0], result = first.cases[0], label = result.metrics.keys[0]
        let fields = lines[1].components(separatedBy: ",")
        XCTAssertEqual(fields[Report.caseCSVColumns.firstIndex(of: "case")!], result.id)
        XCTAssertEqual(fields[Report.caseCSVColumns.firstIndex(of: "label")!], label)
        XCTAssertEqual(Double(fields[Report.caseCSVColumns.firstIndex(of: "dice")!]), result.metrics[label]!.dice)
    }

    func testNumberFormats() throws {
        let report = Report(records: try ReportFixture.load().records, spec: "s")
        let markdown = report.markdown()
        let full = try XCTUnwrap(markdown.split(separator: "\n").first { $0.hasPrefix("| full |") && $0.contains("reference") })
        XCTAssertTrue(full.contains("**"), "the reference of budget all is the best Dice: bold")
        XCTAssertTrue(full.contains("1.23 M | 100 % |"), String(full))
        XCTAssertTrue(markdown.contains("| 1.23 k | 0.100 % |"), "three significant digits for small percentages")
        XCTAssertTrue(markdown.contains("| 24.6 k | 1.99 % |"))
        XCTAssertTrue(markdown.contains("12 × 2"))
        XCTAssertTrue(markdown.contains("12 × 1"), "a partially failed row counts its finished seeds")
        XCTAssertTrue(markdown.contains("&lt;0.001\\*"))
        XCTAssertTrue(markdown.contains("Statistics") || markdown.contains("sample SD"))
    }

    /// Writes the fixture's report (with the hostile labels, case id and failure messages, so the
    /// rendered page shows the escaping) to
    /// $HIPPOPEFT_REPORT_DEMO, or a temporary folder; `scripts/render-report` turns it into a PNG.
    func testWritesDemoReport() throws {
        let folder = ProcessInfo.processInfo.environment["HIPPOPEFT_REPORT_DEMO"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("hippopeft-report-demo")
        let records = Hostile.records(try ReportFixture.load().records)
        let written = try writeReport(records: records, spec: "fixture-study", settings: ReportSettings(), to: folder)
        XCTAssertEqual(written.count, 7)
        print("demo report: \(folder.path)/report.html")
    }
}

/// Parses XML with Foundation's XMLParser and collects element names, attribute names and text.
final class XMLCheck: NSObject, XMLParserDelegate {
    var names: [String] = []
    var attributes: [String] = []
    var texts: [String] = []
    private var current = ""
    var text: String { texts.joined(separator: " ") }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ xml: String) throws -> XMLCheck {
        let delegate = XMLCheck()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            throw Failure(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
        return delegate
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes attributeDict: [String: String] = [:]) {
        flush()
        names.append(elementName)
        attributes += attributeDict.keys
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) { flush() }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    private func flush() {
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { texts.append(trimmed) }
        current = ""
    }
}
