import Foundation

/// Escaping of strings that come from records (labels, case ids, failure messages) for each output
/// format. Nothing from a record reaches a report unescaped.
public enum ReportEscape {
    /// HTML and XML (SVG) text and attribute values: & < > " ' as character references; control
    /// characters and U+FFFE/U+FFFF (not allowed in XML 1.0) become U+FFFD.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// LaTeX text mode (with T1 font encoding): the ten special characters, < > | " as text commands;
    /// line breaks and control characters become spaces.
    public static func latex(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\textbackslash{}"
            case "{": out += "\\{"
            case "}": out += "\\}"
            case "$": out += "\\$"
            case "&": out += "\\&"
            case "#": out += "\\#"
            case "%": out += "\\%"
            case "_": out += "\\_"
            case "^": out += "\\textasciicircum{}"
            case "~": out += "\\textasciitilde{}"
            case "<": out += "\\textless{}"
            case ">": out += "\\textgreater{}"
            case "|": out += "\\textbar{}"
            case "\"": out += "\\textquotedbl{}"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One CSV field (RFC 4180): quoted, with doubled quotes, when it holds a comma, quote, line break
    /// or leading/trailing space; other control characters become spaces.
    public static func csv(_ text: String) -> String {
        var clean = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 && scalar != "\n" && scalar != "\r" || scalar.value == 0x7F {
                clean += " "
            } else {
                clean.unicodeScalars.append(scalar)
            }
        }
        let needsQuotes = clean.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            || clean.first == " " || clean.last == " "
        return needsQuotes ? "\"" + clean.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : clean
    }

    /// Markdown inline text (a table cell or a list item): & < > as character references (Markdown
    /// passes raw HTML through, so no tag may start), the inline markup characters \ ` * _ [ ] ~ |
    /// backslash-escaped, line breaks and control characters as spaces.
    public static func markdown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "~", "|": out += "\\" + String(scalar)
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Terminal text: control characters (escape sequences, line breaks) become "?".
    public static func terminal(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0
        }))
    }
}

/// Number formatting shared by the report formats (C locale, fixed digits).
enum ReportNumber {
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// "0.812 ± 0.034", "0.812" (one value), nil without values. `pm` is the ± text of the format.
    static func meanSD(_ summary: PooledMetric, digits: Int, pm: String = " ± ") -> String? {
        guard let mean = summary.mean else { return nil }
        guard let sd = summary.sd else { return fixed(mean, digits) }
        return fixed(mean, digits) + pm + fixed(sd, digits)
    }

    /// 812 → "812", 24576 → "24.6 k", 1234567 → "1.23 M".
    static func count(_ n: Int) -> String {
        let x = Double(n)
        switch abs(x) {
        case ..<1_000: return String(n)
        case ..<1_000_000: return fixed(x / 1_000, x < 10_000 ? 2 : 1) + " k"
        case ..<1_000_000_000: return fixed(x / 1_000_000, x < 10_000_000 ? 2 : 1) + " M"
        default: return fixed(x / 1_000_000_000, 2) + " G"
        }
    }

    /// Three significant digits, at most two decimals above 1: 100 → "100", 1.99 → "1.99", 0.0249 → "0.0249".
    static func percent(_ p: Double) -> String {
        if p == 0 { return "0" }
        if p >= 100 { return fixed(p, 0) }
        if p >= 10 { return fixed(p, 1) }
        if p >= 1 { return fixed(p, 2) }
        return String(format: "%#.3g", p)
    }

    /// 42 → "42 s", 750 → "12.5 min", 9000 → "2.50 h".
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return fixed(seconds, 0) + " s" }
        if seconds < 7200 { return fixed(seconds / 60, 1) + " min" }
        return fixed(seconds / 3600, 2) + " h"
    }

    /// Megabytes: 850 → "850 MB", 1536 → "1.50 GB".
    static func memory(_ mb: Double) -> String {
        mb < 1024 ? fixed(mb, 0) + " MB" : fixed(mb / 1024, 2) + " GB"
    }

    /// "0.012", "<0.001".
    static func p(_ p: Double) -> String { p < 0.001 ? "<0.001" : fixed(p, 3) }

    /// Shortest round-trip form for machine-readable files ("" for nil or non-finite).
    static func machine(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// The cells of a table row as plain (unescaped) text, shared by the text formats.
struct RowText {
    var method: String
    var dice: String
    var hdMax: String
    var hd95: String
    var parameters: String
    var percent: String
    var time: String
    var memory: String
    var cases: String
    var p: String

    init(_ row: Report.Row, pm: String = " ± ", times: String = " × ", dash: String = "—") {
        method = row.method
        dice = ReportNumber.meanSD(row.dice, digits: 3, pm: pm) ?? dash
        hdMax = ReportNumber.meanSD(row.hdMax, digits: 2, pm: pm) ?? dash
        hd95 = ReportNumber.meanSD(row.hd95, digits: 2, pm: pm) ?? dash
        parameters = row.parameters.map { ReportNumber.count($0.trainable) } ?? dash
        percent = row.parameters.map { ReportNumber.percent($0.percentOfUsed) + " %" } ?? dash
        time = row.trainingSeconds.map(ReportNumber.duration) ?? dash
        memory = row.peakMemoryMB.map(ReportNumber.memory) ?? dash
        cases = "\(row.testCases)\(times)\(row.seeds.count)"
        if row.isReference {
            p = "reference"
        } else if let w = row.wilcoxon {
            p = ReportNumber.p(w.pValue) + (row.significant ? "*" : "")
        } else {
            p = dash
        }
    }
}

/// Column headings (plain text).
enum ReportHeading {
    static let method = "Method"
    static let dice = "Dice"
    static let hdMax = "HD95 (paper; max HD) mm"
    static let hd95 = "HD95 (true) mm"
    static let parameters = "Trainable"
    static let percent = "% of used backbone"
    static let time = "Training time"
    static let memory = "Peak memory"
    static let cases = "Test cases × seeds"
    static func p(_ table: Report.Table) -> String { "p vs " + against(table) }

    /// The reference method of the table, or "reference" when backbones have different ones.
    static func against(_ table: Report.Table) -> String {
        let references = Set(table.references.values.map(\.method))
        return references.count == 1 ? references.first! : "reference"
    }

    static func budget(_ budget: String, pool: Int?) -> String {
        if budget == "all" { return "all training cases" + (pool.map { " (\($0))" } ?? "") }
        if let n = Int(budget) { return "\(n) training case\(n == 1 ? "" : "s")" }
        return "budget \(budget)"
    }
}

/// File names from labels: [A-Za-z0-9._-] kept, anything else "_", no leading dot.
func fileSlug(_ label: String) -> String {
    var out = String(label.unicodeScalars.map { scalar -> Character in
        let c = Character(scalar)
        return (scalar.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == "_" ? c : "_"
    })
    if out.isEmpty { out = "_" }
    return String(out.prefix(80))
}
