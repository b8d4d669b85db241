import Experiments
import Foundation

/// A metric over a repeated cross-validation: the mean over all folds of all repeats, its SD over the
/// repeats (of each repeat's mean over its folds; nil with one repeat) and its SD over all folds.
public struct RepeatedMetric: Sendable, Equatable, Codable {
    public var mean: Double
    public var sdOverRepeats: Double?
    public var sdOverFolds: Double

    /// `values[f]` of fold f, `repeats[f]` its repeat; nil values (e.g. an undefined AUC) are left out.
    public init(values: [Double?], repeats: [Int]) {
        let all = MetricSummary(values)
        mean = all.mean
        sdOverFolds = all.standardDeviation
        let byRepeat = Dictionary(grouping: zip(repeats, values), by: { $0.0 })
        let means = byRepeat.keys.sorted().map { MetricSummary(byRepeat[$0]!.map(\.1)).mean }
        sdOverRepeats = means.count > 1 ? MetricSummary(means).standardDeviation : nil
    }
}

/// Everything `harness diagnose` reports: per task, feature set, classifier and source of volumes the
/// cross-validated metrics, and per source how its volumes agree with the reference.
public struct DiagnosisReport: Sendable, Codable {
    public struct TaskSummary: Sendable, Codable, Equatable {
        public var task: String
        public var negative: String
        public var positive: String
        public var negatives: Int
        public var positives: Int
        /// Accuracy of always predicting the larger group.
        public var majorityRate: Double
    }

    public struct SourceSummary: Sendable, Codable {
        public var source: String
        public var kind: VolumeSourceKind
        /// False for a segmentation cell that could not run (see `message`).
        public var available: Bool
        public var message: String?
        public var subjects: Int
        public var meanLeft: Double?
        public var meanRight: Double?
        /// Segmentation sources: agreement of their volumes with the reference volumes.
        public var agreement: VolumeAgreement?
        /// The cohort's own volumes: Pearson r with the reference mask volumes.
        public var correlationWithReference: Double?
        /// Mean Dice with the reference masks over the cohort.
        public var cohortDice: Double?
        /// Mean Dice over the sweep cell's own test cases (its record).
        public var sweepTestDice: Double?
        public var cellKey: String?

        init(source: String, kind: VolumeSourceKind, available: Bool, message: String?, subjects: Int) {
            self.source = source
            self.kind = kind
            self.available = available
            self.message = message
            self.subjects = subjects
        }
    }

    public struct Row: Sendable, Codable {
        public var source: String
        public var kind: VolumeSourceKind
        public var task: String
        public var featureSet: String
        public var classifier: String
        public var accuracy: RepeatedMetric
        public var balancedAccuracy: RepeatedMetric
        public var sensitivity: RepeatedMetric
        public var specificity: RepeatedMetric
        public var auc: RepeatedMetric
        /// Summed over all folds of all repeats.
        public var confusion: ConfusionMatrix
        /// Accuracy minus the reference row's (same task, features, classifier and folds): mean over repeats,
        /// and its SD over repeats.
        public var accuracyDifference: Double?
        public var accuracyDifferenceSD: Double?
        public var aucDifference: Double?
        /// Folds whose solver stopped at its iteration limit.
        public var unconverged: Int
        /// Per-repeat mean accuracy and AUC (for paired comparisons).
        public var repeatAccuracy: [Double]
        public var repeatAUC: [Double]

        init(source: String, kind: VolumeSourceKind, task: String, featureSet: String, classifier: String, result: CrossValidationResult) {
            self.source = source
            self.kind = kind
            self.task = task
            self.featureSet = featureSet
            self.classifier = classifier
            let repeats = result.folds.map(\.fold.repeatIndex)
            func metric(_ value: (BinaryClassificationMetrics) -> Double?) -> RepeatedMetric {
                RepeatedMetric(values: result.folds.map { value($0.metrics) }, repeats: repeats)
            }
            accuracy = metric { $0.accuracy }
            balancedAccuracy = metric { $0.balancedAccuracy }
            sensitivity = metric { $0.sensitivity }
            specificity = metric { $0.specificity }
            auc = metric { $0.auc }
            confusion = result.confusion
            unconverged = result.folds.filter { !$0.model.converged }.count
            func perRepeat(_ value: (BinaryClassificationMetrics) -> Double?) -> [Double] {
                let grouped = Dictionary(grouping: result.folds, by: { $0.fold.repeatIndex })
                return grouped.keys.sorted().map { MetricSummary(grouped[$0]!.map { value($0.metrics) }).mean }
            }
            repeatAccuracy = perRepeat { $0.accuracy }
            repeatAUC = perRepeat { $0.auc }
        }

        mutating func setDifference(from reference: Row) {
            let differences = zip(repeatAccuracy, reference.repeatAccuracy).map { $0 - $1 }
            let summary = MetricSummary(differences)
            accuracyDifference = summary.mean
            accuracyDifferenceSD = differences.count > 1 ? summary.standardDeviation : nil
            aucDifference = MetricSummary(zip(repeatAUC, reference.repeatAUC).map { $0 - $1 }).mean
        }
    }

    public var name: String
    public var description: String?
    public var cohort: String
    public var protocolText: String
    public var folds: Int
    public var repeats: Int
    public var notes: [String]
    public var tasks: [TaskSummary]
    public var sources: [SourceSummary]
    public var rows: [Row]

    // MARK: formats

    static func format(_ value: Double?, _ digits: Int = 3) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.\(digits)f", value)
    }

    static func format(_ metric: RepeatedMetric) -> String {
        guard metric.mean.isFinite else { return "—" }
        return format(metric.mean) + (metric.sdOverRepeats.map { " ± " + format($0) } ?? "")
    }

    static func signed(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%+.3f", value)
    }

    /// The Markdown report (`diagnosis.md`).
    public func markdown() -> String {
        let md = ReportEscape.markdown
        var out = "# Diagnosis from hippocampal volumes: \(md(name))\n\n"
        if let description { out += md(description) + "\n\n" }
        out += "**Cohort:** \(md(cohort)).\n\n**Protocol:** \(md(protocolText)). Metrics are the mean over all \(folds * repeats) "
            + "test folds ± the SD over the \(repeats) repeats (of each repeat's mean; the CSV also gives the SD over folds). "
            + "Δ is the paired difference from the reference-mask row (same folds), mean over repeats.\n\n"

        out += "## Volumes\n\n| source | subjects | mean left / right (mm³) | Dice with reference (cohort) | Dice (sweep test) | "
            + "mean abs. error % | bias % | r with reference (L / R) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for source in sources {
            guard source.available else {
                out += "| \(md(source.source)) | — | not available: \(md(source.message ?? "")) | | | | | |\n"
                continue
            }
            let means = Self.format(source.meanLeft, 0) + " / " + Self.format(source.meanRight, 0)
            var agreement = "| — | — | " + (source.correlationWithReference.map { Self.format($0) } ?? "—")
            if let a = source.agreement {
                agreement = "| \(Self.format(a.meanAbsolutePercentError, 1)) | \(Self.format(a.meanPercentBias, 1)) | "
                    + "\(Self.format(a.correlation)) (\(Self.format(a.leftCorrelation)) / \(Self.format(a.rightCorrelation)))"
            }
            out += "| \(md(source.source)) | \(source.subjects) | \(means) | \(Self.format(source.cohortDice)) | "
                + "\(Self.format(source.sweepTestDice)) \(agreement) |\n"
        }
        for task in tasks {
            out += "\n## \(md(task.task)) (\(task.negatives) \(task.negative), \(task.positives) \(task.positive); "
                + "majority rate \(Self.format(task.majorityRate)))\n"
            let taskRows = rows.filter { $0.task == task.task }
            if taskRows.isEmpty { out += "\nNot evaluated (see the notes).\n" }
            for set in uniqueOrdered(taskRows.map(\.featureSet)) {
                out += "\nFeatures: \(md(set)).\n\n| source | classifier | accuracy | balanced acc. | sensitivity | specificity | AUC | "
                    + "Δ accuracy | Δ AUC |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
                for row in taskRows where row.featureSet == set {
                    let delta = row.kind == .reference ? "" : Self.signed(row.accuracyDifference)
                        + (row.accuracyDifferenceSD.map { " ± " + Self.format($0) } ?? "")
                    out += "| \(md(row.source)) | \(md(row.classifier)) | \(Self.format(row.accuracy)) | \(Self.format(row.balancedAccuracy)) | "
                        + "\(Self.format(row.sensitivity)) | \(Self.format(row.specificity)) | \(Self.format(row.auc)) | \(delta) | "
                        + "\(row.kind == .reference ? "" : Self.signed(row.aucDifference)) |\n"
                }
            }
        }
        if !notes.isEmpty {
            out += "\n## Notes\n\n" + notes.map { "- " + md($0) }.joined(separator: "\n") + "\n"
        }
        let unavailable = sources.filter { !$0.available }
        if !unavailable.isEmpty {
            out += "\n## Not available\n\n" + unavailable.map { "- \(md($0.source)): \(md($0.message ?? ""))" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// One line per (task, features, classifier, source), with the source's volume agreement (`diagnosis.csv`).
    public func csv() -> String {
        let columns = ["task", "features", "classifier", "source", "kind", "subjects", "negatives", "positives", "majority_rate"]
            + ["accuracy", "balanced_accuracy", "sensitivity", "specificity", "auc"].flatMap { [$0, $0 + "_sd_repeats", $0 + "_sd_folds"] }
            + ["delta_accuracy", "delta_accuracy_sd", "delta_auc", "tn", "fp", "fn", "tp", "unconverged_folds",
               "volume_mape_percent", "volume_bias_percent", "volume_r", "cohort_dice", "sweep_test_dice"]
        var lines = [columns.joined(separator: ",")]
        func number(_ value: Double?) -> String { value.map { $0.isFinite ? String(format: "%.6g", $0) : "" } ?? "" }
        for row in rows {
            let task = tasks.first { $0.task == row.task }
            let source = sources.first { $0.source == row.source }
            var fields = [row.task, row.featureSet, row.classifier, row.source, row.kind.rawValue].map(ReportEscape.csv)
            fields += [String(task.map { $0.negatives + $0.positives } ?? 0), String(task?.negatives ?? 0), String(task?.positives ?? 0),
                       number(task?.majorityRate)]
            for metric in [row.accuracy, row.balancedAccuracy, row.sensitivity, row.specificity, row.auc] {
                fields += [number(metric.mean), number(metric.sdOverRepeats), number(metric.sdOverFolds)]
            }
            fields += [number(row.accuracyDifference), number(row.accuracyDifferenceSD), number(row.aucDifference)]
            fields += [row.confusion.trueNegatives, row.confusion.falsePositives, row.confusion.falseNegatives,
                       row.confusion.truePositives, row.unconverged].map(String.init)
            fields += [number(source?.agreement?.meanAbsolutePercentError), number(source?.agreement?.meanPercentBias),
                       number(source?.agreement?.correlation ?? source?.correlationWithReference), number(source?.cohortDice),
                       number(source?.sweepTestDice)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// A compact table for the terminal: per task and feature set, accuracy and AUC per source and classifier.
    public func terminalSummary() -> String {
        var out = "Diagnosis: \(name)\n\(cohort)\n"
        for task in tasks {
            let taskRows = rows.filter { $0.task == task.task }
            for set in uniqueOrdered(taskRows.map(\.featureSet)) {
                out += "\n\(task.task) (\(task.negatives) \(task.negative), \(task.positives) \(task.positive); majority rate "
                    + "\(Self.format(task.majorityRate))), features \(set):\n"
                let sourceWidth = max(8, taskRows.map(\.source.count).max() ?? 0)
                out += "  " + "source".padding(toLength: sourceWidth, withPad: " ", startingAt: 0)
                    + "  classifier  accuracy        bal. acc.       AUC             Δ acc.\n"
                for row in taskRows where row.featureSet == set {
                    func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
                    out += "  " + cell(row.source, sourceWidth) + "  " + cell(row.classifier, 10) + "  " + cell(Self.format(row.accuracy), 14)
                        + "  " + cell(Self.format(row.balancedAccuracy), 14) + "  " + cell(Self.format(row.auc), 14) + "  "
                        + (row.kind == .reference ? "" : Self.signed(row.accuracyDifference)) + "\n"
                }
            }
        }
        let agreements = sources.filter { $0.agreement != nil }
        if !agreements.isEmpty {
            out += "\nVolumes vs reference masks (mean abs. error %, r, cohort Dice):\n"
            for source in agreements {
                out += "  \(source.source): \(Self.format(source.agreement!.meanAbsolutePercentError, 1)) %, "
                    + "r \(Self.format(source.agreement!.correlation)), Dice \(Self.format(source.cohortDice))\n"
            }
        }
        for note in notes { out += "note: \(note)\n" }
        for source in sources where !source.available { out += "not available: \(source.source): \(source.message ?? "")\n" }
        return out
    }

    /// Writes `diagnosis.md`, `diagnosis.csv`, `diagnosis.json` and `volumes.csv` (per subject and source)
    /// into `folder`, each atomically. Returns the files written.
    @discardableResult
    public func write(to folder: URL, volumes: [SourceVolumes] = []) throws -> [URL] {
        try ResultStore.createFolder(folder)
        var written: [URL] = []
        func put(_ data: Data, _ name: String) throws {
            let url = folder.appendingPathComponent(name)
            try ResultStore.writeAtomically(data, to: url)
            written.append(url)
        }
        try put(Data(markdown().utf8), "diagnosis.md")
        try put(Data(csv().utf8), "diagnosis.csv")
        try put(try json(), "diagnosis.json")
        if !volumes.isEmpty {
            var lines = ["subject,source,kind,left_mm3,right_mm3,unassigned_mm3,dice"]
            for source in volumes {
                for (n, id) in source.ids.enumerated() {
                    let v = source.volumes[n]
                    lines.append([ReportEscape.csv(id), ReportEscape.csv(source.source), source.kind.rawValue,
                                  String(format: "%.3f", v.left), String(format: "%.3f", v.right), String(format: "%.3f", v.unassigned),
                                  source.dice.map { String(format: "%.4f", $0[n]) } ?? ""].joined(separator: ","))
                }
            }
            try put(Data((lines.joined(separator: "\n") + "\n").utf8), "volumes.csv")
        }
        return written
    }
}

private func uniqueOrdered(_ items: [String]) -> [String] {
    var seen = Set<String>()
    return items.filter { seen.insert($0).inserted }
}
