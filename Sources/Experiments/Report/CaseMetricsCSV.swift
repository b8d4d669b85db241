import Volumes

/// `cases.csv`: every test case of every finished cell, one row per label (and the union, `all`),
/// with all the metrics of docs/METRICS.md — the numbers behind each table's mean ± sd, for
/// statistics elsewhere (R, pandas). An undefined metric is an empty field with its reason in `notes`.
extension Report {
    public static let caseCSVColumns = ["spec", "dataset", "budget", "backbone", "method", "method_name", "seed", "cell",
                                        "case", "label"] + MetricName.allCases.map(\.rawValue) + ["notes"]

    public func caseMetricsCSV() -> String {
        var lines = [Self.caseCSVColumns.joined(separator: ",")]
        for record in records where record.status == .done {
            let cell = [record.spec, record.dataset, record.budget, record.backbone, record.method, record.methodName,
                        String(record.seed), record.key]
            for result in record.cases {
                for label in result.metrics.keys {
                    guard let metrics = result.metrics[label] else { continue }
                    let values = MetricName.allCases.map { ReportNumber.machine(metrics[$0]) }
                    let notes = metrics.notes.sorted { $0.key.rawValue < $1.key.rawValue }
                        .map { "\($0.key.rawValue): \($0.value)" }.joined(separator: "; ")
                    lines.append((cell + [result.id, label] + values + [notes]).map(ReportEscape.csv).joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
