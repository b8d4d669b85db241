import Experiments
import Foundation

/// A table of hippocampal volumes by subject (`cohort.volumes`): `harness predict`'s volumes.csv, or
/// any CSV with an id column (`id`, `PTID`, `subject_id`, `subject`) and `left_volume`/`right_volume` in mm³.
enum VolumeTable {
    /// The volumes of `ids`, in that order; every id needs a row with two positive, finite volumes.
    static func read(_ url: URL, ids: [String]) throws -> [HippocampalVolumes] {
        let file = url.path
        func fail(_ line: Int?, _ message: String) -> CohortTableError {
            CohortTableError(issues: [CohortTableIssue(file: file, line: line, message: message)], more: 0)
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw fail(nil, "cannot read the volumes table (no such file?); cohort.volumes names it")
        }
        let records: [CSVRecord]
        do { records = try CSVRecord.parse(text) } catch let error as CSVSyntaxError { throw fail(error.line, error.message) }
        guard let header = records.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw fail(1, "the table is empty; it needs a header line")
        }
        func column(_ names: [String]) throws -> Int {
            guard let index = names.lazy.compactMap({ header.firstIndex(of: $0) }).first else {
                throw fail(1, "no \(names[0]) column (the header has \(header.joined(separator: ", ")))")
            }
            return index
        }
        let id = try column(["id", "ptid", "subject_id", "subject"]), left = try column(["left_volume"]), right = try column(["right_volume"])
        var rows: [String: HippocampalVolumes] = [:]
        for record in records.dropFirst() where record.fields.count > 1 || record.fields.first?.isEmpty == false {
            guard record.fields.count == header.count else {
                throw fail(record.line, "\(record.fields.count) fields where the header has \(header.count)")
            }
            let values = [left, right].map { Double(record.fields[$0].trimmingCharacters(in: .whitespaces)) }
            guard let l = values[0], let r = values[1], l.isFinite, r.isFinite, l >= 0, r >= 0 else {
                throw fail(record.line, "left_volume and right_volume must be non-negative numbers (mm³)")
            }
            rows[record.fields[id].trimmingCharacters(in: .whitespaces)] = HippocampalVolumes(left: l, right: r)
        }
        let missing = ids.filter { rows[$0] == nil }
        guard missing.isEmpty else {
            throw fail(nil, "\(missing.count) subject(s) of the cohort have no row, e.g. \(missing.prefix(3).joined(separator: ", ")); "
                            + "predict their images or drop them from the metadata")
        }
        return ids.map { rows[$0]! }
    }
}
