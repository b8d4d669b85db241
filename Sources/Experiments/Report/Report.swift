import Foundation
import Volumes

/// The order of rows and tables. Labels not listed come after the listed ones, in order of first
/// appearance in the records. Budgets are always numeric ascending, then `all`, then other labels.
public struct ReportOrder: Codable, Sendable, Equatable {
    public var backbones: [String]
    public var datasets: [String]
    public var methods: [String]

    public init(backbones: [String] = [], datasets: [String] = [], methods: [String] = []) {
        self.backbones = backbones
        self.datasets = datasets
        self.methods = methods
    }

    /// `listed` first, then the rest of `seen` in order of first appearance, without repeats.
    func arrange(_ listed: [String], _ seen: [String]) -> [String] {
        var out: [String] = []
        var present = Set<String>()
        let seenSet = Set(seen)
        for label in listed + seen where seenSet.contains(label) && !present.contains(label) {
            out.append(label)
            present.insert(label)
        }
        return out
    }

    /// Numeric budgets ascending, then `all`, then any other label in order of appearance.
    static func budgets(_ seen: [String]) -> [String] {
        var unique: [String] = []
        for label in seen where !unique.contains(label) { unique.append(label) }
        let numeric = unique.compactMap { Int($0) }.sorted().map(String.init)
        let rest = unique.filter { Int($0) == nil }
        return numeric + rest.filter { $0 == "all" } + rest.filter { $0 != "all" }
    }
}

/// Mean ± sample SD of one metric over the case results of a row (all seeds pooled), with the
/// undefined (nil or non-finite) values excluded and counted.
public struct PooledMetric: Sendable, Equatable {
    public var mean: Double?
    /// Sample standard deviation (n − 1); nil below two values.
    public var sd: Double?
    /// Defined values averaged.
    public var count: Int
    /// Values excluded because the metric was undefined.
    public var undefined: Int
    /// Why they were undefined: note → count (the record's `<name>_note`).
    public var reasons: [String: Int]

    public init(_ values: [Double?], notes: [String?] = []) {
        var defined: [Double] = []
        var reasons: [String: Int] = [:]
        var undefined = 0
        for (i, value) in values.enumerated() {
            if let value, value.isFinite {
                defined.append(value)
            } else {
                undefined += 1
                let note = i < notes.count ? notes[i] : nil
                reasons[note ?? (value == nil ? "undefined" : "not finite"), default: 0] += 1
            }
        }
        mean = defined.mean
        sd = defined.standardDeviation
        count = defined.count
        self.undefined = undefined
        self.reasons = reasons
    }

    /// "prediction is empty: 2; reference is empty: 1", most frequent first.
    public var reasonText: String {
        reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: "; ")
    }
}

/// Tables of results per data set and training budget, built from cell records. See docs/REPORTS.md.
///
/// Statistics:
/// - Mean ± SD pool the test-case results of every finished seed of a row (sample SD, n − 1).
///   Undefined values (nil, e.g. a distance to an empty prediction) are excluded and counted in a note.
/// - p: two-sided paired Wilcoxon signed-rank test (`Wilcoxon`) of per-case Dice against the table's
///   reference for the same backbone: each case's Dice is first averaged over the seeds of each
///   method, cases are paired by id, and only cases present in both enter.
/// - The reference is `ReportSettings.reference` when that method has results in the table for the
///   backbone, else the method with the best mean Dice there.
/// - Best values (highest mean Dice, lowest mean HD) are marked per table, over all backbones.
public struct Report: Sendable {
    public static let significanceLevel = 0.05

    public enum Column: String, Sendable, Hashable, CaseIterable {
        case method, dice, hdMax, hd95, parameters, time, memory, cases, p
    }

    public enum Status: String, Sendable { case done, partial, failed }

    public struct Failure: Sendable, Equatable {
        public var seed: UInt64
        public var message: String
    }

    public struct Row: Sendable {
        public var backbone: String
        public var method: String
        /// The registered method name (`lora`), from the records.
        public var methodName: String
        public var status: Status
        /// Seeds with a finished record, ascending.
        public var seeds: [UInt64]
        public var failures: [Failure]
        /// Distinct test case ids over the finished seeds.
        public var testCases: Int
        /// Case results pooled over seeds.
        public var caseResults: Int
        public var dice: PooledMetric
        public var hdMax: PooledMetric
        public var hd95: PooledMetric
        /// Mean Dice of each finished seed, in `seeds` order.
        public var seedMeanDice: [Double]
        /// The plots' error bar: SD over the seeds' mean Dice with two or more seeds, else SD over cases.
        public var diceErrorBar: Double?
        /// Mean Dice of each case over seeds, by case id.
        public var caseMeanDice: [String: Double]
        public var parameters: CellRecord.Parameters?
        /// Mean over finished seeds.
        public var trainingSeconds: Double?
        /// Maximum over finished seeds.
        public var peakMemoryMB: Double?
        /// Training cases of the finished records (the pool size for budget `all`).
        public var trainingCases: Int?
        public var isReference = false
        /// The method this row was tested against (nil for the reference and failed rows).
        public var reference: String?
        public var wilcoxon: Wilcoxon.Result?
        /// Cases present in both this row and the reference.
        public var pairedCases = 0
        /// Why there is no p-value although there is a reference.
        public var comparisonNote: String?
        /// Columns holding the table's best value.
        public var best: Set<Column> = []
        /// Footnote numbers (1-based, into `Table.notes`) per column.
        public var marks: [Column: [Int]] = [:]

        public var failed: Bool { status == .failed }
        public var significant: Bool { (wilcoxon?.pValue).map { $0 < Report.significanceLevel } ?? false }
    }

    public struct Table: Sendable {
        public var dataset: String
        public var budget: String
        /// Backbones in order; rows are grouped by backbone in this order.
        public var backbones: [String]
        public var rows: [Row]
        /// Footnotes, numbered from 1.
        public var notes: [String]
        /// Reference method per backbone, with how it was chosen.
        public var references: [String: (method: String, chosen: String)]

        public func rows(of backbone: String) -> [Row] { rows.filter { $0.backbone == backbone } }
    }

    public var spec: String
    public var settings: ReportSettings
    public var tables: [Table]
    public var datasets: [String]
    public var budgets: [String]
    public var backbones: [String]
    public var methods: [String]
    public var recordCount: Int
    public var failedCells: Int
    /// Records left out because another record of the same coordinates superseded them.
    public var superseded: [String]
    /// The records the tables were built from (one per coordinates), for the per-case CSV.
    public var records: [CellRecord]

    public init(records: [CellRecord], spec: String, settings: ReportSettings = ReportSettings(), order: ReportOrder = ReportOrder()) {
        self.spec = spec
        self.settings = settings
        let (kept, superseded) = Self.deduplicate(records)
        self.superseded = superseded
        self.records = kept
        recordCount = kept.count
        failedCells = kept.filter { $0.status == .failed }.count
        datasets = order.arrange(order.datasets, kept.map(\.dataset))
        budgets = ReportOrder.budgets(kept.map(\.budget))
        backbones = order.arrange(order.backbones, kept.map(\.backbone))
        methods = order.arrange(order.methods, kept.map(\.method))

        var tables: [Table] = []
        for dataset in datasets {
            for budget in budgets {
                let cells = kept.filter { $0.dataset == dataset && $0.budget == budget }
                guard !cells.isEmpty else { continue }
                tables.append(Self.table(dataset: dataset, budget: budget, records: cells,
                                         backbones: backbones, methods: methods, settings: settings))
            }
        }
        self.tables = tables
    }

    /// One record per (backbone, dataset, budget, method, seed): the latest finished one (by
    /// `timing.finishedAt`), a finished record before a failed one, else the first.
    static func deduplicate(_ records: [CellRecord]) -> (kept: [CellRecord], superseded: [String]) {
        var chosen: [String: Int] = [:]
        var order: [String] = []
        var superseded: [String] = []
        func coordinates(_ r: CellRecord) -> String {
            [r.backbone, r.dataset, r.budget, r.method, String(r.seed)].joined(separator: "\u{1F}")
        }
        func better(_ a: CellRecord, than b: CellRecord) -> Bool {
            if let ta = a.timing?.finishedAt, let tb = b.timing?.finishedAt, ta != tb { return ta > tb }
            if a.status != b.status { return a.status == .done }
            return false
        }
        for (i, record) in records.enumerated() {
            let key = coordinates(record)
            if let j = chosen[key] {
                if better(record, than: records[j]) {
                    superseded.append(records[j].key)
                    chosen[key] = i
                } else {
                    superseded.append(record.key)
                }
            } else {
                chosen[key] = i
                order.append(key)
            }
        }
        return (order.map { records[chosen[$0]!] }, superseded)
    }

    static func table(dataset: String, budget: String, records: [CellRecord], backbones allBackbones: [String],
                      methods allMethods: [String], settings: ReportSettings) -> Table {
        var rows: [Row] = []
        let backbones = allBackbones.filter { b in records.contains { $0.backbone == b } }
        for backbone in backbones {
            for method in allMethods {
                let cells = records.filter { $0.backbone == backbone && $0.method == method }.sorted { $0.seed < $1.seed }
                guard !cells.isEmpty else { continue }
                rows.append(row(backbone: backbone, method: method, records: cells))
            }
        }

        var references: [String: (method: String, chosen: String)] = [:]
        for backbone in backbones {
            let candidates = rows.indices.filter { rows[$0].backbone == backbone && !rows[$0].failed && rows[$0].dice.mean != nil }
            guard !candidates.isEmpty else { continue }
            var referenceIndex: Int
            var chosen: String
            let best = candidates.max { rows[$0].dice.mean! < rows[$1].dice.mean! }!
            if let wanted = settings.reference, let i = candidates.first(where: { rows[$0].method == wanted }) {
                referenceIndex = i
                chosen = "report.reference"
            } else if let wanted = settings.reference {
                referenceIndex = best
                chosen = "best mean Dice; '\(wanted)' (report.reference) has no results here"
            } else {
                referenceIndex = best
                chosen = "best mean Dice"
            }
            references[backbone] = (rows[referenceIndex].method, chosen)
            rows[referenceIndex].isReference = true
            let referenceMeans = rows[referenceIndex].caseMeanDice
            for i in candidates where i != referenceIndex {
                rows[i].reference = rows[referenceIndex].method
                let common = rows[i].caseMeanDice.keys.filter { referenceMeans[$0] != nil }.sorted()
                rows[i].pairedCases = common.count
                let differences = common.map { rows[i].caseMeanDice[$0]! - referenceMeans[$0]! }
                rows[i].wilcoxon = Wilcoxon.signedRank(differences: differences)
                if rows[i].wilcoxon == nil {
                    rows[i].comparisonNote = common.isEmpty
                        ? "no test case in common with \(rows[referenceIndex].method); no test"
                        : "per-case Dice equal to \(rows[referenceIndex].method) on all \(common.count) common cases; no test"
                }
            }
        }

        // Best values over the whole table.
        func markBest(_ column: Column, _ value: (Row) -> Double?, highest: Bool) {
            let values = rows.compactMap(value)
            guard let target = highest ? values.max() : values.min() else { return }
            for i in rows.indices where value(rows[i]) == target { rows[i].best.insert(column) }
        }
        markBest(.dice, { $0.failed ? nil : $0.dice.mean }, highest: true)
        markBest(.hdMax, { $0.failed ? nil : $0.hdMax.mean }, highest: false)
        markBest(.hd95, { $0.failed ? nil : $0.hd95.mean }, highest: false)

        // Footnotes, in row order.
        var notes: [String] = []
        func note(_ i: Int, _ column: Column, _ text: String) {
            notes.append(text)
            rows[i].marks[column, default: []].append(notes.count)
        }
        for i in rows.indices {
            let row = rows[i]
            let who = backbones.count > 1 ? "\(row.backbone) · \(row.method)" : row.method
            if !row.failures.isEmpty {
                let total = row.failures.count + row.seeds.count
                let head = row.failed
                    ? "\(who): failed (\(row.failures.count) of \(total) seed\(total == 1 ? "" : "s"))"
                    : "\(who): \(row.failures.count) of \(total) seeds failed; the row shows seed\(row.seeds.count == 1 ? "" : "s") \(row.seeds.map(String.init).joined(separator: ", ")) only"
                note(i, .method, head + " — " + row.failures.map { "seed \($0.seed): \($0.message)" }.joined(separator: "; "))
            }
            for (column, summary, name) in [(Column.hdMax, row.hdMax, "HD95 (paper; max HD)"), (.hd95, row.hd95, "HD95"), (.dice, row.dice, "Dice")]
            where summary.undefined > 0 {
                note(i, column, "\(who): \(name) undefined for \(summary.undefined) of \(summary.undefined + summary.count) case results (\(summary.reasonText)); excluded from mean and SD")
            }
            if let text = row.comparisonNote { note(i, .p, "\(who): \(text)") }
        }
        return Table(dataset: dataset, budget: budget, backbones: backbones, rows: rows, notes: notes, references: references)
    }

    static func row(backbone: String, method: String, records: [CellRecord]) -> Row {
        let done = records.filter { $0.status == .done }
        let failures = records.filter { $0.status != .done }.map {
            Failure(seed: $0.seed, message: ($0.failure?.isEmpty == false ? $0.failure! : "no reason recorded")
                    + ($0.log.map { " (log: \($0))" } ?? ""))
        }
        let cases = done.flatMap(\.cases)
        func summary(_ name: MetricName) -> PooledMetric {
            PooledMetric(cases.map { $0.metrics.all[name] }, notes: cases.map { $0.metrics.all.notes[name] })
        }
        let seedMeans = done.compactMap { $0.cases.map(\.metrics.all.dice).filter(\.isFinite).mean }
        var perCase: [String: [Double]] = [:]
        for c in cases where c.metrics.all.dice.isFinite { perCase[c.id, default: []].append(c.metrics.all.dice) }
        let dice = summary(.dice)
        let timings = done.compactMap(\.timing)
        let status: Status = done.isEmpty ? .failed : failures.isEmpty ? .done : .partial
        return Row(
            backbone: backbone, method: method, methodName: records.first?.methodName ?? method, status: status,
            seeds: done.map(\.seed), failures: failures,
            testCases: Set(cases.map(\.id)).count, caseResults: cases.count,
            dice: dice, hdMax: summary(.hdMax), hd95: summary(.hd95),
            seedMeanDice: seedMeans,
            diceErrorBar: seedMeans.count > 1 ? seedMeans.standardDeviation : dice.sd,
            caseMeanDice: perCase.mapValues { $0.mean! },
            parameters: done.compactMap(\.parameters).first,
            trainingSeconds: timings.map(\.trainingSeconds).mean,
            peakMemoryMB: timings.map(\.peakResidentMB).max(),
            trainingCases: done.map(\.trainingCases.count).max())
    }

    /// Tables of one data set, in budget order.
    public func tables(of dataset: String) -> [Table] { tables.filter { $0.dataset == dataset } }

    /// One line per (backbone, method) for the Dice-vs-budget plot of a data set.
    public func budgetSeries(dataset: String) -> (budgets: [String], poolSize: Int?, series: [PlotSeries]) {
        let tables = tables(of: dataset)
        let budgets = tables.map(\.budget)
        let pool = tables.first { $0.budget == "all" }?.rows.compactMap(\.trainingCases).max()
        var series: [PlotSeries] = []
        let multiple = backbones.count > 1
        for backbone in backbones {
            for method in methods {
                var points: [PlotSeries.Point] = []
                var present = false
                for (x, table) in tables.enumerated() {
                    guard let row = table.rows.first(where: { $0.backbone == backbone && $0.method == method }) else { continue }
                    present = true
                    if let mean = row.dice.mean { points.append(.init(x: Double(x), y: mean, error: row.diceErrorBar)) }
                }
                if present {
                    series.append(PlotSeries(label: multiple ? "\(backbone) · \(method)" : method, points: points))
                }
            }
        }
        return (budgets, pool, series)
    }

    /// One point per (backbone, method) at the data set's largest budget, for Dice vs trainable parameters.
    public func parameterPoints(dataset: String) -> (budget: String, points: [(label: String, parameters: Int, dice: Double, error: Double?)])? {
        guard let table = tables(of: dataset).last else { return nil }
        let multiple = table.backbones.count > 1
        let points = table.rows.compactMap { row -> (String, Int, Double, Double?)? in
            guard let mean = row.dice.mean, let p = row.parameters?.trainable, p > 0 else { return nil }
            return (multiple ? "\(row.backbone) · \(row.method)" : row.method, p, mean, row.diceErrorBar)
        }
        return (table.budget, points)
    }

    /// The statistics paragraph shared by every format (plain text; escape it for the format).
    public var statisticsText: String {
        """
        Dice, HD95 (paper; max HD) and HD95 are means ± sample SD over the test cases of all finished seeds pooled \
        (metrics of the union of foreground labels). "HD95 (paper; max HD)" is the maximum symmetric Hausdorff distance \
        between the masks (hd_max), the quantity the papers' "HD95" column reports; "HD95" is the true 95th-percentile \
        Hausdorff distance (MONAI). Undefined values (e.g. a distance to an empty prediction) are excluded and counted \
        in a note. p: two-sided paired Wilcoxon signed-rank test of per-case Dice against the reference method of the \
        table and backbone (each case averaged over seeds first, paired by case id, zero differences dropped; exact \
        null distribution for n ≤ 25 without ties, otherwise the normal approximation with tie and continuity \
        correction, as scipy.stats.wilcoxon(zero_method="wilcox", correction=True)); * marks p < 0.05. No correction \
        for multiple comparisons. Bold: the best value of the table (highest Dice, lowest HD). Trainable parameters \
        are also given as % of the backbone's used parameters (those its forward pass reads, as the papers count \
        them: MONAI ≥ 1.4's UNETR registers norm_cross_attn layers it never calls); training time is the mean \
        over seeds, peak memory the largest peak resident set of the seeds.
        """
    }

    public func referenceText(_ table: Table) -> String {
        let text = table.backbones.compactMap { backbone -> String? in
            guard let reference = table.references[backbone] else { return nil }
            let prefix = table.backbones.count > 1 ? "\(backbone): " : ""
            return "\(prefix)\(reference.method) (\(reference.chosen))"
        }.joined(separator: "; ")
        return text.isEmpty ? "none (no method finished)" : text
    }
}

/// A line of a plot: points at x positions with optional symmetric error bars.
public struct PlotSeries: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double, y: Double, error: Double?
    }
    public var label: String
    public var points: [Point]
}
