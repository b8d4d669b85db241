import ArgumentParser
import Foundation
import Parity

struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Forward and backward pass against a MONAI fixture; exit 0 on pass, 1 on failure.",
        discussion: """
        FIXTURE_DIR holds config.json, weights.safetensors, io.safetensors and expected.safetensors. Logits must \
        match to 1e-4 and every gradient to 1e-3, relative to the largest magnitude of that tensor; a gradient \
        below 2 % of its top-level module's largest gradient that fails at its own scale is compared at that \
        float32 noise floor instead and listed (docs/PARITY.md).
        """)

    @Argument(help: "A fixture folder.")
    var fixture: String
    @Option(help: "Most leaky-ReLU kinks tried on the other branch after a failing first pass (one pass each).")
    var branchTrials = 10
    @Flag(help: "Print JSON on stdout and nothing else there.")
    var json = false

    func validate() throws {
        guard branchTrials >= 0 else { throw ValidationError("--branch-trials must be 0 or more, not \(branchTrials)") }
    }

    func run() throws {
        var passed = false
        try reportingErrors {
            let report = try runParity(fixture: URL(fileURLWithPath: fixture), maximumBranchTrials: branchTrials)
            passed = report.passed
            if json {
                try printJSON(report)
            } else {
                print("""
                \(report.fixture) (\(report.backbone), \(report.parameterCount) parameters): \(report.passed ? "PASS" : "FAIL")
                  logits      \(String(format: "%.2e", report.logits.relativeError)) (tolerance \(report.logits.tolerance))
                  grad_input  \(String(format: "%.2e", report.gradInput.relativeError)) (tolerance \(report.gradInput.tolerance))
                  worst of \(report.gradientsCompared) parameter gradients: \(report.worstGradient.name) \
                \(String(format: "%.2e", report.worstGradient.relativeError))
                """)
                for flip in report.kinkBranchesFlipped { print("  branch at a float32 kink taken as the reference's: \(flip)") }
                if !report.moduleScaleGradients.isEmpty {
                    print("  compared at the module's noise floor: \(report.moduleScaleGradients.joined(separator: ", "))")
                }
                for failure in report.failures {
                    print("  FAIL \(failure.name): \(String(format: "%.2e", failure.relativeError)) > \(failure.tolerance)")
                }
            }
        }
        if !passed { throw ExitCode.failure }
    }
}
