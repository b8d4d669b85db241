import Backbones
import ConfigDecoding
import Experiments
import Foundation

/// A column of a cohort table (ADNIMERGE style) that the diagnosis experiments read.
public enum CohortColumn: String, CaseIterable, Codable, Sendable {
    case id, diagnosis, age, sex, education, mmse, icv
    case leftVolume = "left_volume", rightVolume = "right_volume"
    /// ADNIMERGE's visit code (`bl`, `m06`, …): rows of other visits than `CohortTableOptions.visit` are dropped.
    case visit

    /// Header names tried in order when the spec does not name the column (case-insensitive).
    /// ADNIMERGE: PTID, DX_bl / DX, AGE, PTGENDER, PTEDUCAT, MMSE / MMSE_bl, ICV / ICV_bl, VISCODE.
    public var candidates: [String] {
        switch self {
        case .id: ["PTID", "subject_id", "subject", "id", "RID"]
        case .diagnosis: ["DX_bl", "DX", "diagnosis", "group"]
        case .age: ["AGE", "age"]
        case .sex: ["PTGENDER", "sex", "gender"]
        case .education: ["PTEDUCAT", "education"]
        case .mmse: ["MMSE", "MMSE_bl"]
        case .icv: ["ICV", "ICV_bl", "eTIV"]
        case .leftVolume: ["left_hippocampus", "left_volume", "Left-Hippocampus"]
        case .rightVolume: ["right_hippocampus", "right_volume", "Right-Hippocampus"]
        case .visit: ["VISCODE"]
        }
    }
}

/// What to read from a cohort table and how.
public struct CohortTableOptions: Sendable, Equatable {
    /// Header name per column; a column not given here is found among `CohortColumn.candidates`.
    public var columns: [CohortColumn: String] = [:]
    /// Columns whose absence (or an empty value) is an error. `id` and `diagnosis` always are.
    public var required: Set<CohortColumn> = []
    /// Diagnosis spellings (case-insensitive) → group, or nil to drop the subject; merged over
    /// `CohortTable.defaultDiagnosisMap`.
    public var diagnosisMap: [String: ClinicalGroup?] = [:]
    /// Keep only rows whose visit column holds this value (default `bl`, ADNIMERGE's baseline); nil keeps
    /// every row. Ignored when the table has no visit column.
    public var visit: String? = "bl"
    /// Rows with an empty (or `NA`) value in a required column: an error (default) or dropped and reported.
    public var skipIncomplete = false

    public init(columns: [CohortColumn: String] = [:], required: Set<CohortColumn> = [],
                diagnosisMap: [String: ClinicalGroup?] = [:], visit: String? = "bl", skipIncomplete: Bool = false) {
        self.columns = columns
        self.required = required
        self.diagnosisMap = diagnosisMap
        self.visit = visit
        self.skipIncomplete = skipIncomplete
    }
}

/// One problem in a cohort table, located: file, line (1-based, of the record's first line) and column.
public struct CohortTableIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// 1-based field number and header name.
    public var column: Int?
    public var columnName: String?
    public var message: String

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ": column \(column)" + (columnName.map { " (\($0))" } ?? "") }
        return "\(location): error: \(message)"
    }
}

/// Every problem found in a cohort table (at most `CohortTable.maximumIssues`), reported at once.
public struct CohortTableError: Error, CustomStringConvertible, Equatable {
    public var issues: [CohortTableIssue]
    /// How many more problems there were.
    public var more: Int

    public var description: String {
        issues.map(\.description).joined(separator: "\n") + (more > 0 ? "\n… and \(more) more problem(s)" : "")
    }
}

/// A cohort read from a CSV table in the style of ADNI's ADNIMERGE: one row per subject (per visit),
/// a header line naming the columns. RFC 4180 quoting (fields in double quotes may hold commas, line
/// breaks and doubled quotes), CRLF or LF line ends, a UTF-8 byte-order mark ignored.
public struct CohortTable: Sendable {
    public static let maximumIssues = 20

    /// The subjects in table order. Columns the table lacks (and that were not required) hold 0
    /// (volumes, ICV, MMSE, education, age) or `.female`... never used: `present` says what was read.
    public var subjects: [Subject]
    /// The table's line of each subject's record.
    public var lines: [Int]
    /// The columns found, with their header names.
    public var present: [CohortColumn: String]
    /// What was dropped or mapped, for the user (e.g. "12 rows of other visits than bl dropped").
    public var notes: [String]

    /// Spellings of diagnoses accepted by default (compared case-insensitively, trimmed):
    /// ADNIMERGE's `DX_bl` (CN, SMC, EMCI, LMCI, AD) and `DX` (CN, MCI, Dementia), and ADNI-1's NL.
    /// SMC (significant memory concern; cognitively normal by ADNI's criteria) → CN. MCI → LMCI: `DX`
    /// does not separate early from late MCI, and ADNI-1's MCI criteria are LMCI's (a note counts them;
    /// use `DX_bl`, or map MCI to nil to drop them, for EMCI vs LMCI).
    public static let defaultDiagnosisMap: [String: ClinicalGroup?] = [
        "cn": .CN, "nl": .CN, "normal": .CN, "control": .CN, "smc": .CN,
        "emci": .EMCI, "lmci": .LMCI, "mci": .LMCI,
        "ad": .AD, "dementia": .AD,
    ]

    public static func read(_ url: URL, options: CohortTableOptions = CohortTableOptions()) throws -> CohortTable {
        let file = url.path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CohortTableError(issues: [CohortTableIssue(file: file, message: "cannot read the cohort table (no such file?)")], more: 0)
        }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw CohortTableError(issues: [CohortTableIssue(file: file, message: "not a text file")], more: 0)
        }
        return try parse(text, file: file, options: options)
    }

    public static func parse(_ text: String, file: String = "<table>", options: CohortTableOptions = CohortTableOptions()) throws -> CohortTable {
        var issues: [CohortTableIssue] = []
        var more = 0
        func fail(_ line: Int?, _ column: Int?, _ name: String?, _ message: String) {
            if issues.count < maximumIssues {
                issues.append(CohortTableIssue(file: file, line: line, column: column, columnName: name, message: message))
            } else {
                more += 1
            }
        }
        let records: [CSVRecord]
        do {
            records = try CSVRecord.parse(text)
        } catch let error as CSVSyntaxError {
            throw CohortTableError(issues: [CohortTableIssue(file: file, line: error.line, message: error.message)], more: 0)
        }
        guard let header = records.first, !(header.fields.count == 1 && header.fields[0].isEmpty) else {
            throw CohortTableError(issues: [CohortTableIssue(file: file, line: 1, message: "the table is empty; it needs a header line")], more: 0)
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func index(of name: String) -> Int? { names.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame } }

        // Locate the columns.
        var position: [CohortColumn: Int] = [:]
        let required = options.required.union([.id, .diagnosis])
        for column in CohortColumn.allCases {
            if let named = options.columns[column] {
                if let i = index(of: named) {
                    position[column] = i
                } else {
                    let hint = closestMatch(to: named, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                    fail(header.line, nil, nil, "no column '\(named)' for \(column.rawValue)\(hint); the header has \(names.joined(separator: ", "))")
                }
            } else if let i = column.candidates.lazy.compactMap(index(of:)).first {
                position[column] = i
            } else if required.contains(column) {
                fail(header.line, nil, nil, "no \(column.rawValue) column (looked for \(column.candidates.joined(separator: ", "))); "
                     + "name it in the spec's `columns: {\(column.rawValue): HEADER}`; the header has \(names.joined(separator: ", "))")
            }
        }
        if !issues.isEmpty { throw CohortTableError(issues: issues, more: more) }

        var map = defaultDiagnosisMap
        for (spelling, group) in options.diagnosisMap { map[spelling.lowercased().trimmingCharacters(in: .whitespaces)] = group }

        var subjects: [Subject] = []
        var lines: [Int] = []
        var firstLine: [String: Int] = [:]
        var otherVisits = 0, incomplete = 0, dropped: [String: Int] = [:], mci = 0
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }  // blank line
            guard record.fields.count == names.count else {
                fail(record.line, nil, nil, "\(record.fields.count) fields where the header has \(names.count)")
                continue
            }
            func raw(_ column: CohortColumn) -> String? {
                position[column].map { record.fields[$0].trimmingCharacters(in: .whitespaces) }
            }
            func isMissing(_ value: String) -> Bool { ["", "na", "nan", "n/a", "-4"].contains(value.lowercased()) }
            if let wanted = options.visit, let visit = raw(.visit), visit.caseInsensitiveCompare(wanted) != .orderedSame {
                otherVisits += 1
                continue
            }
            // Missing values in required columns.
            let missing = required.filter { column in raw(column).map(isMissing) ?? false }
            if !missing.isEmpty {
                if options.skipIncomplete {
                    incomplete += 1
                } else {
                    for column in CohortColumn.allCases where missing.contains(column) {
                        let i = position[column]!
                        fail(record.line, i + 1, names[i], "empty value for \(column.rawValue)"
                             + " (set `missing: skip` to drop incomplete rows)")
                    }
                }
                continue
            }
            var bad = false
            func number(_ column: CohortColumn) -> Double {
                guard let text = raw(column), !isMissing(text) else { return 0 }
                guard let value = Double(text), value.isFinite else {
                    let i = position[column]!
                    fail(record.line, i + 1, names[i], "'\(text)' is not a number (\(column.rawValue))")
                    bad = true
                    return 0
                }
                return value
            }
            let id = raw(.id)!
            let spelling = raw(.diagnosis)!
            guard let mapped = map[spelling.lowercased()] else {
                let i = position[.diagnosis]!
                fail(record.line, i + 1, names[i], "unknown diagnosis '\(spelling)'; known: "
                     + "CN, SMC, NL (→ CN), EMCI, LMCI, MCI (→ LMCI), AD, Dementia (→ AD); "
                     + "map others with `diagnosis_map: {\"\(spelling)\": AD}` (or `exclude`)")
                continue
            }
            guard let diagnosis = mapped else {
                dropped[spelling, default: 0] += 1
                continue
            }
            if spelling.lowercased() == "mci" { mci += 1 }
            var sex = Sex.female
            if let text = raw(.sex), !isMissing(text) {
                switch text.lowercased() {
                case "f", "female", "woman", "w": sex = .female
                case "m", "male", "man": sex = .male
                default:
                    let i = position[.sex]!
                    fail(record.line, i + 1, names[i], "sex '\(text)' is not Female/Male (or F/M)")
                    bad = true
                }
            }
            let age = number(.age), education = number(.education), mmse = number(.mmse), icv = number(.icv)
            let left = number(.leftVolume), right = number(.rightVolume)
            if position[.icv] != nil, raw(.icv).map(isMissing) == false, icv <= 0 {
                let i = position[.icv]!
                fail(record.line, i + 1, names[i], "intracranial volume must be positive, not \(icv)")
                bad = true
            }
            if bad { continue }
            if let earlier = firstLine[id] {
                fail(record.line, position[.id]! + 1, names[position[.id]!],
                     "subject '\(id)' appears again (first on line \(earlier))"
                     + (position[.visit] == nil ? "" : "; choose one visit with `visit:`"))
                continue
            }
            firstLine[id] = record.line
            subjects.append(Subject(id: id, diagnosis: diagnosis, age: age, sex: sex, educationYears: Int(education.rounded()),
                                    mmse: Int(mmse.rounded()), intracranialVolume: icv, leftHippocampus: left, rightHippocampus: right))
            lines.append(record.line)
        }
        if !issues.isEmpty { throw CohortTableError(issues: issues, more: more) }

        var notes: [String] = []
        if otherVisits > 0, let visit = options.visit { notes.append("\(otherVisits) row(s) of visits other than '\(visit)' left out") }
        if incomplete > 0 { notes.append("\(incomplete) row(s) with an empty required value left out (missing: skip)") }
        for (spelling, count) in dropped.sorted(by: { $0.key < $1.key }) {
            notes.append("\(count) subject(s) with diagnosis '\(spelling)' left out (diagnosis_map)")
        }
        if mci > 0 {
            notes.append("\(mci) subject(s) with diagnosis 'MCI' counted as LMCI (this column does not separate EMCI from LMCI)")
        }
        var present: [CohortColumn: String] = [:]
        for (column, i) in position { present[column] = names[i] }
        return CohortTable(subjects: subjects, lines: lines, present: present, notes: notes)
    }
}

/// One CSV record: its fields and the line it starts on (1-based).
struct CSVRecord: Equatable {
    var fields: [String]
    var line: Int

    /// RFC 4180: comma-separated fields; a field in double quotes may contain commas, CR/LF and `""`
    /// (one quote). CRLF, LF and lone CR end records. A trailing line break adds no record.
    static func parse(_ text: String) throws -> [CSVRecord] {
        var records: [CSVRecord] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false, quoteLine = 0
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            records.append(CSVRecord(fields: fields, line: recordLine))
            fields = []
            field = ""
            wasQuoted = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count, scalars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" || (c == "\r" && !(i + 1 < scalars.count && scalars[i + 1] == "\n")) { line += 1 }
                    field.unicodeScalars.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "\"":
                if field.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                    field = ""
                    inQuotes = true
                    wasQuoted = true
                    quoteLine = line
                } else {
                    throw CSVSyntaxError(line: line, message: "a double quote inside an unquoted field; quote the whole field and double the quote (\"\")")
                }
            case ",":
                fields.append(field)
                field = ""
                wasQuoted = false
            case "\r", "\n":
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            default:
                if wasQuoted && c != " " && c != "\t" {
                    throw CSVSyntaxError(line: line, message: "text after a closing quote; quote the whole field")
                }
                if !wasQuoted { field.unicodeScalars.append(c) }
            }
            i += 1
        }
        if inQuotes { throw CSVSyntaxError(line: quoteLine, message: "a quoted field opened here is never closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}

struct CSVSyntaxError: Error {
    var line: Int
    var message: String
}
