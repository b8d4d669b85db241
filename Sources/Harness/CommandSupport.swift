import ArgumentParser
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
