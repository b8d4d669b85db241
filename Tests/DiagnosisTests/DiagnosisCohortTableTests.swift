import Diagnosis
import Foundation
import XCTest
import Experiments

/// The ADNIMERGE-style cohort table: a good file (quotes, CRLF, BOM, visits, ADNIMERGE spellings) and
/// each error, located by file, line and column.
final class DiagnosisCohortTableTests: XCTestCase {
    let good = "\u{FEFF}RID,PTID,VISCODE,DX_bl,AGE,PTGENDER,PTEDUCAT,MMSE,ICV,COLPROT\r\n"
        + "2,011_S_0002,bl,CN,74.3,Male,16,28,1640000,ADNI1\r\n"
        + "2,011_S_0002,m06,CN,74.8,Male,16,29,1641000,ADNI1\r\n"
        + "3,011_S_0003,bl,Dementia,81.3,Male,18,20,1485000,\"ADNI1, then \"\"GO\"\"\"\r\n"
        + "4,011_S_0004,bl,LMCI,67.5,Female,10,27,,\"ADNI1\r\ncontinued\"\r\n"
        + "5,011_S_0005,bl,SMC,73.7,Female,16,29,1450000,ADNI2\r\n"
        + "6,011_S_0006,bl,EMCI,80.4,Female,13,28,1470000,ADNI2\r\n"
        + "7,011_S_0007,bl,AD,70.0,Male,16,24,1550000,ADNI1\r\n"
        + "\r\n"

    func testGoodFile() throws {
        let table = try CohortTable.parse(good, file: "ADNIMERGE.csv")
        XCTAssertEqual(table.subjects.map(\.id), ["011_S_0002", "011_S_0003", "011_S_0004", "011_S_0005", "011_S_0006", "011_S_0007"])
        XCTAssertEqual(table.subjects.map(\.diagnosis), [.CN, .AD, .LMCI, .CN, .EMCI, .AD])
        XCTAssertEqual(table.lines, [2, 4, 5, 7, 8, 9], "a record's first line; the quoted line break counts")
        let first = table.subjects[0]
        XCTAssertEqual(first.age, 74.3)
        XCTAssertEqual(first.sex, .male)
        XCTAssertEqual(first.educationYears, 16)
        XCTAssertEqual(first.mmse, 28)
        XCTAssertEqual(first.intracranialVolume, 1_640_000)
        XCTAssertEqual(table.subjects[2].intracranialVolume, 0, "ICV empty but not required")
        XCTAssertEqual(table.present[.id], "PTID")
        XCTAssertEqual(table.present[.diagnosis], "DX_bl")
        XCTAssertTrue(table.notes.contains { $0.contains("1 row(s) of visits other than 'bl'") }, "\(table.notes)")

        // All visits, with a named column: the repeated subject is an error naming both lines.
        XCTAssertThrowsError(try CohortTable.parse(good, file: "ADNIMERGE.csv", options: CohortTableOptions(visit: nil))) { error in
            XCTAssertTrue("\(error)".contains("ADNIMERGE.csv:3: column 2 (PTID): error: subject '011_S_0002' appears again (first on line 2)"),
                          "\(error)")
        }
        // DX's MCI → LMCI with a note; SMC dropped by the map; custom column names.
        let text = "id,DX,AGE\na,MCI,70\nb,SMC,71\nc,Dementia,72\nd,CN,73\n"
        let mapped = try CohortTable.parse(text, file: "t.csv", options: CohortTableOptions(diagnosisMap: ["SMC": ClinicalGroup?.none]))
        XCTAssertEqual(mapped.subjects.map(\.diagnosis), [.LMCI, .AD, .CN])
        XCTAssertTrue(mapped.notes.contains { $0.contains("'MCI' counted as LMCI") }, "\(mapped.notes)")
        XCTAssertTrue(mapped.notes.contains { $0.contains("diagnosis 'SMC' left out") }, "\(mapped.notes)")
        let named = try CohortTable.parse("Subject ID,Group,Years\nx,AD,80\n", file: "t.csv",
                                          options: CohortTableOptions(columns: [.id: "Subject ID", .diagnosis: "group", .age: "Years"]))
        XCTAssertEqual(named.subjects.first?.age, 80)
    }

    private func error(_ text: String, _ options: CohortTableOptions = CohortTableOptions()) -> String {
        do {
            _ = try CohortTable.parse(text, file: "cohort.csv", options: options)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testMissingColumn() {
        let message = error("PTID,AGE\na,70\n")
        XCTAssertTrue(message.contains("cohort.csv:1: error: no diagnosis column (looked for DX_bl, DX, diagnosis, group)"), message)
        let required = error("PTID,DX\na,CN\n", CohortTableOptions(required: [.mmse]))
        XCTAssertTrue(required.contains("no mmse column"), required)
        let named = error("PTID,DX,AGE\na,CN,70\n", CohortTableOptions(columns: [.age: "AGES"]))
        XCTAssertTrue(named.contains("no column 'AGES' for age (did you mean 'AGE'?)"), named)
    }

    func testBadNumber() {
        let message = error("PTID,DX,AGE,MMSE\na,CN,70,29\nb,AD,seventy,21\n")
        XCTAssertTrue(message.contains("cohort.csv:3: column 3 (AGE): error: 'seventy' is not a number (age)"), message)
        let icv = error("PTID,DX,ICV\na,CN,-5\n")
        XCTAssertTrue(icv.contains("cohort.csv:2: column 3 (ICV): error: intracranial volume must be positive"), icv)
        let sex = error("PTID,DX,PTGENDER\na,CN,X\n")
        XCTAssertTrue(sex.contains("column 3 (PTGENDER): error: sex 'X' is not Female/Male"), sex)
    }

    func testUnknownDiagnosis() {
        let message = error("PTID,DX_bl\na,CN\nb,MCI to Dementia\n")
        XCTAssertTrue(message.contains("cohort.csv:3: column 2 (DX_bl): error: unknown diagnosis 'MCI to Dementia'"), message)
        XCTAssertTrue(message.contains("diagnosis_map"), message)
        let ok = try? CohortTable.parse("PTID,DX_bl\na,CN\nb,MCI to Dementia\n", options: CohortTableOptions(diagnosisMap: ["mci to dementia": .AD]))
        XCTAssertEqual(ok?.subjects.last?.diagnosis, .AD)
    }

    func testEmptyRequiredValuesAndSkip() throws {
        let text = "PTID,DX,MMSE\na,CN,29\nb,AD,\nc,AD,NA\n"
        let message = error(text, CohortTableOptions(required: [.mmse]))
        XCTAssertTrue(message.contains("cohort.csv:3: column 3 (MMSE): error: empty value for mmse"), message)
        XCTAssertTrue(message.contains("cohort.csv:4: column 3 (MMSE)"), "every problem is listed: \(message)")
        let skipped = try CohortTable.parse(text, options: CohortTableOptions(required: [.mmse], skipIncomplete: true))
        XCTAssertEqual(skipped.subjects.map(\.id), ["a"])
        XCTAssertTrue(skipped.notes.contains { $0.contains("2 row(s) with an empty required value") })
    }

    func testCSVSyntaxErrors() {
        XCTAssertTrue(error("PTID,DX\na,CN,extra\n").contains("cohort.csv:2: error: 3 fields where the header has 2"))
        let unclosed = error("PTID,DX\na,CN\n\"b,AD\n")
        XCTAssertTrue(unclosed.contains("cohort.csv:3: error: a quoted field opened here is never closed"), unclosed)
        XCTAssertTrue(error("PTID,DX\na\"b,CN\n").contains("cohort.csv:2: error: a double quote inside an unquoted field"))
        XCTAssertTrue(error("").contains("the table is empty"))
    }

    func testReadsFilesAndNamesTheMissingOne() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-\(UUID().uuidString).csv")
        try good.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try CohortTable.read(url).subjects.count, 6)
        XCTAssertThrowsError(try CohortTable.read(URL(fileURLWithPath: "/nonexistent/ADNIMERGE.csv"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/ADNIMERGE.csv: error: cannot read"), "\(error)")
        }
    }
}
