import Foundation

// report.csv: one row per method × data set × budget × backbone.
extension Report {
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
}
