import ArgumentParser
import Diagnosis
import Experiments
import Foundation

struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify AD vs CN (and other tasks) from hippocampal volumes: reference masks vs each method's segmentations.",
        discussion: """
        Measures left and right hippocampal volumes for every subject of the spec's cohort (the built-in synthetic \
        ADNI-like cohort rendered as images, or an ADNIMERGE-style CSV with masks or with `harness predict`'s \
        volumes.csv), from the reference masks (or that table) and, with \
        `segmentation:`, from the predictions of a finished sweep's models; then cross-validates linear classifiers on \
        volumes + metadata. Writes diagnosis.md, diagnosis.csv, diagnosis.json and volumes.csv to RESULTS (volumes are \
        cached in RESULTS/volumes). Cells that have not run are reported, and the rest still runs. The protocol and the \
        spec format: docs/DIAGNOSIS.md.
        """)

    @OptionGroup var options: SpecOptions
    @Flag(help: "Print the report as JSON on stdout and nothing else there.")
    var json = false
    @Flag(help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let study = try DiagnosisSpecLoader.load(options.specURL)
            let folder = options.store(specName: study.name).root
            let quiet = quiet
            let runner = DiagnosisStudy(spec: study, results: folder, log: { if !quiet { note($0) } })
            let report = try runner.run()
            if json {
                print(String(decoding: try report.json(), as: UTF8.self))
                note(report.terminalSummary())
            } else {
                print(report.terminalSummary())
            }
            note("report: " + runner.files.map(\.path).joined(separator: ", "))
        }
    }
}
