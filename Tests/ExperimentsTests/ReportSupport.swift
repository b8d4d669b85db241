import Experiments
import Foundation
import Volumes
import XCTest

/// Tests/ExperimentsTests/Fixtures/report-scipy.json (scripts/fixtures/make_report_fixture.py): fake
/// cell records and the numbers numpy/scipy compute from them.
struct ReportFixture: Decodable {
    var records: [CellRecord]
    var expected: Expected
    var wilcoxon: [Vector]
    var scipy: String

    struct Vector: Decodable {
        var name: String
        var x: [Double]
        var y: [Double]
        var expected: Test?
    }

    struct Test: Decodable {
        var p: Double
        var n: Int
        var rankSumPositive: Double
        var method: String
        var ties: Bool
        enum CodingKeys: String, CodingKey { case p, n, method, ties, rankSumPositive = "rank_sum_positive" }
    }

    struct Expected: Decodable { var budgets: [String: Budget] }

    struct Budget: Decodable {
        var reference: String
        var bestDice: String
        var bestHdMax: String
        var bestHd95: String
        var rows: [String: Row]
        enum CodingKeys: String, CodingKey {
            case reference, rows, bestDice = "best_dice", bestHdMax = "best_hd_max", bestHd95 = "best_hd95"
        }
    }

    struct Row: Decodable {
        var status: String
        var seedsDone: [UInt64]
        var seedsFailed: [UInt64]
        var dice: Summary?
        var hdMax: Summary?
        var hd95: Summary?
        var errorBar: Double?
        var trainingSecondsMean: Double?
        var peakMbMax: Double?
        var testCases: Int?
        var trainable: Int?
        var wilcoxon: Test?
        enum CodingKeys: String, CodingKey {
            case status, dice, wilcoxon, trainable, hd95
            case seedsDone = "seeds_done", seedsFailed = "seeds_failed", hdMax = "hd_max", errorBar = "error_bar"
            case trainingSecondsMean = "training_seconds_mean", peakMbMax = "peak_mb_max", testCases = "test_cases"
        }
    }

    struct Summary: Decodable {
        var mean: Double?
        var sd: Double?
        var n: Int
        var undefined: Int
    }

    static func load() throws -> ReportFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/report-scipy.json")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ReportFixture.self, from: Data(contentsOf: url))
    }
}

/// Hostile strings for the escaping tests.
enum Hostile {
    static let script = "<script>alert(1)</script>"
    static let image = "<img src=x onerror=alert(1)>"
    static let quotes = "a&b \"q\" 'x', y"
    static let latex = "50% of \\input{x} $y$ #1 a_b {c} ~d ^e & f"
    static let control = "bell\u{07} escape\u{1B}[31m red\nnewline"

    /// The fixture's records with hostile labels: one method label, one data set name, one case id and
    /// failure messages.
    static func records(_ base: [CellRecord]) -> [CellRecord] {
        base.map { record in
            var r = record
            if r.method == "hyps" { r.method = script }
            if r.method == "linear-probe" { r.method = quotes }
            if !r.cases.isEmpty { r.cases[0].id = image }
            if r.status == .failed { r.failure = latex + " " + control + " " + script }
            return r
        }
    }
}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hippopeft-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of fields.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var characters = Array(text.unicodeScalars)[...]
    while let c = characters.popFirst() {
        if quoted {
            if c == "\"" {
                if characters.first == "\"" { field.unicodeScalars.append("\""); characters.removeFirst() } else { quoted = false }
            } else {
                field.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            row.append(field); field = ""
        } else if c == "\r" || c == "\n" {
            if c == "\r" && characters.first == "\n" { characters.removeFirst() }
            row.append(field); field = ""
            rows.append(row); row = []
        } else {
            field.unicodeScalars.append(c)
        }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

func assertClose(_ a: Double?, _ b: Double?, relative: Double = 1e-12, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    switch (a, b) {
    case (nil, nil): return
    case let (x?, y?):
        XCTAssert(abs(x - y) <= relative * max(abs(x), abs(y), 1e-300), "\(x) vs \(y) \(message())", file: file, line: line)
    default:
        XCTFail("\(String(describing: a)) vs \(String(describing: b)) \(message())", file: file, line: line)
    }
}
