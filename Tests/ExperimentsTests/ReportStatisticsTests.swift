import Experiments
import Foundation
import XCTest

/// The report's numbers: the Wilcoxon signed-rank test against scipy, and the tables' means, SDs,
/// best marks, references, failures and undefined counts against numpy/scipy on fake records.
final class ReportStatisticsTests: XCTestCase {
    func testWilcoxonMatchesScipy() throws {
        let fixture = try ReportFixture.load()
        XCTAssertGreaterThanOrEqual(fixture.wilcoxon.count, 10)
        for vector in fixture.wilcoxon {
            let result = Wilcoxon.signedRank(vector.x, vector.y)
            guard let expected = vector.expected else {
                XCTAssertNil(result, vector.name)
                continue
            }
            guard let result else { XCTFail("\(vector.name): no result"); continue }
            XCTAssertEqual(result.n, expected.n, vector.name)
            XCTAssertEqual(result.method.rawValue, expected.method, vector.name)
            XCTAssertEqual(result.hasTies, expected.ties, vector.name)
            XCTAssertEqual(result.rankSumPositive, expected.rankSumPositive, vector.name)
            assertClose(result.pValue, expected.p, relative: 1e-10, "\(vector.name) (scipy \(fixture.scipy))")
            // Two-sided: swapping the samples changes nothing but the sign.
            let swapped = Wilcoxon.signedRank(vector.y, vector.x)!
            assertClose(swapped.pValue, result.pValue, relative: 1e-12, vector.name)
            XCTAssertEqual(swapped.rankSumNegative, result.rankSumPositive, vector.name)
        }
    }

    func testWilcoxonEdgeCases() {
        // All differences zero, or nothing to pair: no test.
        XCTAssertNil(Wilcoxon.signedRank([0.5, 0.25, 0.75], [0.5, 0.25, 0.75]))
        XCTAssertNil(Wilcoxon.signedRank([], []))
        XCTAssertNil(Wilcoxon.signedRank(differences: [0, 0, .nan]))

        // n = 1: both sign patterns equally likely, p = 1.
        let one = Wilcoxon.signedRank([0.9], [0.1])!
        XCTAssertEqual(one.n, 1)
        XCTAssertEqual(one.method, .exact)
        XCTAssertEqual(one.pValue, 1)
        XCTAssertEqual(Wilcoxon.signedRank(differences: [0, 0.3, 0])!.zeros, 2)

        // All n positive and distinct: p = 2 / 2^n exactly.
        for n in [3, 8, 12, 25] {
            let r = Wilcoxon.signedRank(differences: (1...n).map { Double($0) / 100 })!
            XCTAssertEqual(r.method, .exact)
            XCTAssertEqual(r.pValue, 2 / pow(2, Double(n)), "n = \(n)")
            XCTAssertEqual(r.rankSumPositive, Double(n * (n + 1) / 2))
            XCTAssertEqual(r.statistic, 0)
        }
        // n = 26 switches to the normal approximation.
        let big = Wilcoxon.signedRank(differences: (1...26).map { Double($0) / 100 })!
        XCTAssertEqual(big.method, .normal)
        XCTAssertNotNil(big.z)

        // Ties force the normal approximation even for small n; the tie correction shrinks the SE.
        let tied = Wilcoxon.signedRank(differences: [0.1, -0.1, 0.2, 0.3, 0.3, 0.3])!
        XCTAssertTrue(tied.hasTies)
        XCTAssertEqual(tied.method, .normal)
        XCTAssertEqual(tied.rankSumPositive + tied.rankSumNegative, 21)  // n(n+1)/2 with average ranks
        XCTAssertEqual(tied.rankSumNegative, 1.5)  // the two 0.1s share ranks 1 and 2

        // Symmetric data: p = 1 (exact) and close to 1 (normal, continuity correction capped).
        XCTAssertEqual(Wilcoxon.signedRank(differences: [1, -2, -3, 4, 5, -6, -7, 8].map { Double($0) })!.pValue, 1, accuracy: 1e-12)
        let balanced = Wilcoxon.signedRank(differences: [1, -1, 2, -2].map { Double($0) })!
        XCTAssertEqual(balanced.method, .normal)
        XCTAssertLessThanOrEqual(balanced.pValue, 1)
    }

    func testTablesMatchNumpyAndScipy() throws {
        let fixture = try ReportFixture.load()
        let report = Report(records: fixture.records, spec: "fixture-study")
        XCTAssertEqual(report.datasets, ["msd-hippocampus"])
        XCTAssertEqual(report.budgets, ["5", "10", "all"])
        XCTAssertEqual(report.methods, ["full", "linear-probe", "lora-r4", "adapter", "hyps"], "order of first appearance")
        XCTAssertEqual(report.tables.count, 3)
        XCTAssertEqual(report.failedCells, 3)

        for table in report.tables {
            let expected = try XCTUnwrap(fixture.expected.budgets[table.budget])
            XCTAssertEqual(table.rows.map(\.method), report.methods, "every method has a row, failed ones too")
            XCTAssertEqual(table.references["unetr"]?.method, expected.reference, "budget \(table.budget)")
            for row in table.rows {
                let want = try XCTUnwrap(expected.rows[row.method])
                let at = "budget \(table.budget), \(row.method)"
                XCTAssertEqual(row.status.rawValue, want.status, at)
                XCTAssertEqual(row.seeds, want.seedsDone, at)
                XCTAssertEqual(row.failures.map(\.seed), want.seedsFailed, at)
                XCTAssertEqual(row.isReference, row.method == expected.reference, at)
                XCTAssertEqual(row.best.contains(.dice), row.method == expected.bestDice, at)
                XCTAssertEqual(row.best.contains(.hdMax), row.method == expected.bestHdMax, at)
                XCTAssertEqual(row.best.contains(.hd95), row.method == expected.bestHd95, at)
                guard row.status != .failed else {
                    XCTAssertNil(row.dice.mean, at)
                    XCTAssertNil(row.wilcoxon, at)
                    continue
                }
                for (summary, wanted, name) in [(row.dice, want.dice, "dice"), (row.hdMax, want.hdMax, "hd_max"), (row.hd95, want.hd95, "hd95")] {
                    let w = try XCTUnwrap(wanted, at)
                    assertClose(summary.mean, w.mean, "\(at) \(name) mean")
                    assertClose(summary.sd, w.sd, relative: 1e-10, "\(at) \(name) sd")
                    XCTAssertEqual(summary.count, w.n, "\(at) \(name) n")
                    XCTAssertEqual(summary.undefined, w.undefined, "\(at) \(name) undefined")
                }
                assertClose(row.diceErrorBar, want.errorBar, relative: 1e-10, "\(at) error bar")
                assertClose(row.trainingSeconds, want.trainingSecondsMean, "\(at) time")
                XCTAssertEqual(row.peakMemoryMB, want.peakMbMax, at)
                XCTAssertEqual(row.testCases, want.testCases, at)
                XCTAssertEqual(row.parameters?.trainable, want.trainable, at)
                if let test = want.wilcoxon {
                    let w = try XCTUnwrap(row.wilcoxon, at)
                    XCTAssertEqual(row.reference, expected.reference, at)
                    XCTAssertEqual(w.n, test.n, at)
                    XCTAssertEqual(w.method.rawValue, test.method, at)
                    XCTAssertEqual(w.rankSumPositive, test.rankSumPositive, at)
                    assertClose(w.pValue, test.p, relative: 1e-10, at)
                    XCTAssertEqual(row.significant, test.p < 0.05, at)
                } else {
                    XCTAssertNil(row.wilcoxon, at)
                }
            }
        }
        // The engineered cases: a zero difference dropped, and a tie forcing the normal approximation.
        let all = report.tables[2], ten = report.tables[1]
        XCTAssertEqual(all.rows.first { $0.method == "hyps" }?.wilcoxon?.zeros, 1)
        XCTAssertEqual(ten.rows.first { $0.method == "linear-probe" }?.wilcoxon?.method, .normal)
    }

    func testFailedCellsAndUndefinedMetricsAreFootnoted() throws {
        let report = Report(records: try ReportFixture.load().records, spec: "fixture-study")
        let five = report.tables[0], ten = report.tables[1]

        let adapter = try XCTUnwrap(five.rows.first { $0.method == "adapter" })
        XCTAssertEqual(adapter.status, .failed)
        let adapterNote = five.notes[try XCTUnwrap(adapter.marks[.method]?.first) - 1]
        XCTAssertTrue(adapterNote.contains("failed (2 of 2 seeds)"), adapterNote)
        XCTAssertTrue(adapterNote.contains("seed 0: training diverged: loss nan"), adapterNote)
        XCTAssertTrue(adapterNote.contains("seed 1: training diverged: loss inf"), adapterNote)

        let hyps = try XCTUnwrap(ten.rows.first { $0.method == "hyps" })
        XCTAssertEqual(hyps.status, .partial)
        let hypsNote = ten.notes[try XCTUnwrap(hyps.marks[.method]?.first) - 1]
        XCTAssertTrue(hypsNote.contains("1 of 2 seeds failed; the row shows seed 0 only"), hypsNote)
        XCTAssertTrue(hypsNote.contains("out of memory"), hypsNote)

        let probe = try XCTUnwrap(five.rows.first { $0.method == "linear-probe" })
        XCTAssertEqual(probe.hdMax.undefined, 2)
        XCTAssertEqual(probe.hdMax.reasons, ["prediction is empty": 2])
        XCTAssertEqual(probe.dice.undefined, 0, "Dice of an empty prediction is 0, not undefined")
        let hdNote = five.notes[try XCTUnwrap(probe.marks[.hdMax]?.first) - 1]
        XCTAssertTrue(hdNote.contains("undefined for 2 of 24 case results (prediction is empty: 2)"), hdNote)
        XCTAssertNotNil(probe.marks[.hd95])

        let lora = try XCTUnwrap(ten.rows.first { $0.method == "lora-r4" })
        XCTAssertEqual(lora.hd95.undefined, 1)
        XCTAssertEqual(lora.hdMax.undefined, 0)
        XCTAssertNil(lora.marks[.hdMax])

        for text in [report.markdown(), report.html(), report.latex(), report.csv(), report.terminalSummary()] {
            XCTAssertTrue(text.contains("training diverged"), "failure reasons appear in every format")
            XCTAssertTrue(text.contains("failed"))
        }
        let csv = parseCSV(report.csv())
        let header = csv[0]
        let adapterRow = try XCTUnwrap(csv.first { $0[header.firstIndex(of: "method")!] == "adapter" && $0[header.firstIndex(of: "budget")!] == "5" })
        XCTAssertEqual(adapterRow[header.firstIndex(of: "status")!], "failed")
        XCTAssertEqual(adapterRow[header.firstIndex(of: "dice_mean")!], "")
    }

    func testReferenceFromSettingsAndFallback() throws {
        let records = try ReportFixture.load().records
        var settings = ReportSettings()
        settings.reference = "lora-r4"
        let report = Report(records: records, spec: "fixture-study", settings: settings)
        for table in report.tables {
            XCTAssertEqual(table.references["unetr"]?.method, "lora-r4")
            XCTAssertEqual(table.references["unetr"]?.chosen, "report.reference")
            let lora = table.rows.first { $0.method == "lora-r4" }!
            for row in table.rows where !row.failed && row.method != "lora-r4" {
                XCTAssertEqual(row.reference, "lora-r4")
                // Pairing by case id after averaging over seeds, recomputed here.
                let common = row.caseMeanDice.keys.filter { lora.caseMeanDice[$0] != nil }.sorted()
                XCTAssertEqual(common.count, 12)
                let expected = Wilcoxon.signedRank(common.map { row.caseMeanDice[$0]! }, common.map { lora.caseMeanDice[$0]! })
                XCTAssertEqual(row.wilcoxon, expected)
            }
        }
        // A reference that has no results in a table falls back to the best mean Dice, and says so.
        settings.reference = "adapter"
        let fallback = Report(records: records, spec: "fixture-study", settings: settings)
        XCTAssertEqual(fallback.tables[0].references["unetr"]?.method, "hyps")
        XCTAssertTrue(fallback.tables[0].references["unetr"]!.chosen.contains("'adapter' (report.reference) has no results here"))
        XCTAssertEqual(fallback.tables[1].references["unetr"]?.method, "adapter")
    }

    func testPerCaseAveragingOverSeedsBeforePairing() throws {
        // Two seeds with opposite per-case noise average to the reference exactly: no test.
        let fixture = try ReportFixture.load()
        var records = fixture.records.filter { $0.budget == "all" && ($0.method == "full" || $0.method == "lora-r4") }
        let full = records.filter { $0.method == "full" }
        for i in records.indices where records[i].method == "lora-r4" {
            // lora's seed s gets full's other seed's values: per-seed values differ, per-case means agree.
            let other = full.first { $0.seed != records[i].seed }!
            for c in records[i].cases.indices { records[i].cases[c].metrics.all.dice = other.cases[c].metrics.all.dice }
        }
        let table = Report(records: records, spec: "s", settings: ReportSettings(reference: "full")).tables[0]
        let lora = table.rows.first { $0.method == "lora-r4" }!
        XCTAssertNil(lora.wilcoxon)
        XCTAssertEqual(lora.pairedCases, 12)
        XCTAssertTrue(table.notes[lora.marks[.p]![0] - 1].contains("per-case Dice equal to full on all 12 common cases; no test"))
        XCTAssertEqual(RowTextProbe.p(Report(records: records, spec: "s", settings: ReportSettings(reference: "full")).markdown()), true)
    }

    func testSingleSeedAndAllFailedTable() throws {
        let records = try ReportFixture.load().records
        // One seed: the error bar is the SD over cases.
        let single = Report(records: records.filter { $0.seed == 0 }, spec: "s")
        for row in single.tables.flatMap(\.rows) where !row.failed {
            XCTAssertEqual(row.seeds, [0])
            XCTAssertEqual(row.diceErrorBar, row.dice.sd)
        }
        XCTAssertTrue(single.budgetPlot(dataset: "msd-hippocampus")!.render(standalone: true).contains("SD over test cases (one seed)"))

        // A table whose every cell failed still appears, with each failure and no reference.
        var failed = records.filter { $0.budget == "5" }
        for i in failed.indices where failed[i].status == .done {
            failed[i].status = .failed
            failed[i].failure = "killed by the test"
            failed[i].cases = []
        }
        let report = Report(records: failed, spec: "s")
        XCTAssertEqual(report.tables.count, 1)
        XCTAssertTrue(report.tables[0].rows.allSatisfy(\.failed))
        XCTAssertEqual(report.tables[0].notes.count, 5)
        XCTAssertTrue(report.tables[0].references.isEmpty)
        XCTAssertEqual(report.referenceText(report.tables[0]), "none (no method finished)")
        XCTAssertNil(report.budgetPlot(dataset: "msd-hippocampus"))
        XCTAssertNil(report.parameterPlot(dataset: "msd-hippocampus"))
        let html = report.html()
        XCTAssertEqual(html.components(separatedBy: "failed (see note)").count - 1, 5)
        _ = try XMLCheck.parse(html)
        XCTAssertTrue(Report(records: [], spec: "empty").html().contains("0 cell records"))
    }

    func testOrderBackbonesAndDuplicates() throws {
        let base = try ReportFixture.load().records.filter { $0.budget == "all" }
        var swin = base
        for i in swin.indices {
            swin[i].backbone = "swinunetr"
            swin[i].key = "swin-" + swin[i].key
            swin[i].cases = swin[i].cases.map { var c = $0; c.metrics.all.dice = max(0, c.metrics.all.dice - 0.03); return c }
        }
        // A stale duplicate of one cell (older finish time) must be ignored, not pooled as a third seed.
        var stale = base.first { $0.method == "full" && $0.seed == 0 }!
        stale.key = "stale"
        stale.timing?.finishedAt = Date(timeIntervalSince1970: 0)
        stale.cases = stale.cases.map { var c = $0; c.metrics.all.dice = 0.01; return c }

        let order = ReportOrder(backbones: ["swinunetr", "unetr"], methods: ["hyps", "full"])
        let report = Report(records: base + [stale] + swin, spec: "two-backbones", order: order)
        XCTAssertEqual(report.superseded, ["stale"])
        XCTAssertEqual(report.backbones, ["swinunetr", "unetr"])
        XCTAssertEqual(report.methods, ["hyps", "full", "linear-probe", "lora-r4", "adapter"])
        let table = report.tables[0]
        XCTAssertEqual(table.rows.map(\.backbone), Array(repeating: "swinunetr", count: 5) + Array(repeating: "unetr", count: 5))
        XCTAssertEqual(table.rows.prefix(5).map(\.method), report.methods)
        XCTAssertEqual(table.rows.first { $0.backbone == "unetr" && $0.method == "full" }?.seeds, [0, 1])
        XCTAssertGreaterThan(table.rows.first { $0.backbone == "unetr" && $0.method == "full" }!.dice.mean!, 0.5)
        // One reference per backbone; best marks over the whole table (unetr is better everywhere).
        XCTAssertEqual(table.references["unetr"]?.method, "full")
        XCTAssertEqual(table.references["swinunetr"]?.method, "full")
        XCTAssertEqual(table.rows.filter { $0.best.contains(.dice) }.map(\.backbone), ["unetr"])
        XCTAssertEqual(table.rows.first { $0.backbone == "swinunetr" && $0.method == "hyps" }?.reference, "full")

        let markdown = report.markdown()
        XCTAssertTrue(markdown.contains("| Backbone | Method |"), "a backbone column when several")
        XCTAssertTrue(report.html().contains("<tr class=\"group\"><th colspan=\"10\">swinunetr</th></tr>"))
        XCTAssertTrue(report.latex().contains("\\multicolumn{10}{l}{\\textit{swinunetr}}"))
        XCTAssertTrue(report.summaryText.contains("1 older record of the same cells ignored"))
    }
}

/// Small probes of rendered text.
enum RowTextProbe {
    /// Whether a Markdown table shows "—" in a p column of a non-reference row with a footnote.
    static func p(_ markdown: String) -> Bool {
        markdown.split(separator: "\n").contains { $0.hasPrefix("| lora-r4") && $0.hasSuffix("—<sup>1</sup> |") }
    }
}

extension Report {
    /// The summary line as the formats show it.
    var summaryText: String { terminalSummary().split(separator: "\n").first.map(String.init) ?? "" }
}
