import ArgumentParser
import Experiments
import Foundation

/// Human-readable output goes to stderr so that `--json` leaves stdout to the JSON alone.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints an Encodable as JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints the tables of a finished report on stdout and names its files on stderr.
func show(_ report: FinishedReport) {
    print(report.summary)
    note("report: " + report.files.map(\.path).joined(separator: ", "))
}

/// Runs a command body; a failure prints one line naming what went wrong and exits with status 1
/// (no stack trace for bad input).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        note("error: \(error)")
        throw ExitCode.failure
    }
}

/// A problem with what a spec asks of its data (a label its backbone cannot represent, …), named with
/// the spec file first: the fix is in the spec or the data it points to.
struct SpecDataProblem: Error, CustomStringConvertible {
    let specPath: String
    let problem: any Error
    var description: String { "\(specPath): \(problem)" }
}

/// `LabelRange.check` for a command that is about to plan or run a spec's cells.
func checkLabels(_ experiment: ExperimentSpec, specPath: String) throws {
    do {
        try LabelRange.check(experiment)
    } catch let error as DataError {
        throw SpecDataProblem(specPath: specPath, problem: error)
    }
}
