import ArgumentParser
import Experiments
import Foundation

struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write (and optionally submit) an sbatch job array with one task per pending cell.",
        discussion: """
        Done cells are not resubmitted (failed ones are). --time, --cpus-per-task and --mem, when not given here or in \
        the spec's `slurm:` section, come from the step measurements `harness plan SPEC --results RESULTS` cached \
        (the cores they were timed on; the longest pending cell × 1.5; the largest step peak × 1.25 + 1 GB), \
        else 24:00:00, 2 and 16G. When a backbone needs the spec's pre-training stage and its weights \
        do not exist yet, a pre-training job is written too and the array depends on it. Logs go to \
        RESULTS/logs/cell-<index>.log; `harness report RESULTS` gathers the records.
        """)

    @OptionGroup var options: SpecOptions
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: "Time limit per cell (default: from the measured steps).") var time: String?
    @Option(name: .customLong("cpus-per-task"), help: "CPUs per task (default: the threads the steps were measured on).")
    var cpusPerTask: Int?
    @Option(help: "Memory per task, e.g. 24G (default: from the measured peak).") var mem: String?
    @Option(help: "Slurm account.") var account: String?
    @Option(name: .customLong("sbatch-option"), help: "Extra #SBATCH line (repeatable), e.g. '--qos=short'.")
    var sbatchOptions: [String] = []
    @Option(help: "Path of the harness executable on the compute nodes (default: this one).")
    var harness: String?
    @Flag(help: "Submit with sbatch and print the job ids.")
    var submit = false

    func run() throws {
        try reportingErrors {
            let (experiment, store) = try options.load(checkingLabels: true)
            let runner = SweepRunner(spec: experiment, store: store)
            // Before anything is written: a bad --time or --mem is refused, and the request comes from the measurements.
            let resources = try SlurmSizing.resources(spec: experiment, store: store,
                                                      flags: SlurmRequest(time: time, cpusPerTask: cpusPerTask, memory: mem))
            try store.prepare()
            let cells = try runner.cells()
            // A budget larger than a pool would fail its array tasks: refuse before writing or submitting.
            try BudgetCheck.verify(cells: cells, training: experiment.training, open: runner.dataset)
            try SweepManifest(spec: experiment, specPath: options.specURL.path, cells: cells).save(to: store)
            let pending = try cells.filter { try store.finishedRecord($0.key) == nil }.map(\.index)
            guard !pending.isEmpty else {
                print("every cell of \(experiment.name) is done; nothing to submit")
                return
            }
            var batch = SlurmPlan.Options()
            (batch.partition, batch.time, batch.cpusPerTask, batch.memory, batch.account, batch.extra) =
                (partition, resources.time, resources.cpusPerTask, resources.memory, account, sbatchOptions)
            let executable = harness ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
            let plan = try SlurmPlan.write(specPath: options.specURL.path, store: store, pending: pending,
                                           needsPretraining: runner.needsPretraining(), harness: executable, options: batch)
            print("\(pending.count) pending cell(s) of \(cells.count): \(plan.arrayScript.path)")
            print("per array task: \(resources.text)")
            if let pretraining = plan.pretrainingScript { print("pre-training job: \(pretraining.path)") }
            guard submit else {
                let dependency = plan.pretrainingScript.map { "PRE=$(sbatch --parsable \($0.path)) && " } ?? ""
                print("submit with: \(dependency)sbatch \(plan.pretrainingScript == nil ? "" : "--dependency=afterok:$PRE ")\(plan.arrayScript.path)")
                return
            }
            var dependency: String?
            if let pretraining = plan.pretrainingScript {
                dependency = try sbatch([pretraining.path])
                print("submitted pre-training job \(dependency!)")
            }
            let job = try sbatch((dependency.map { ["--dependency=afterok:\($0)"] } ?? []) + [plan.arrayScript.path])
            print("submitted array job \(job)")
        }
    }

    private func sbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch", "--parsable"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !text.isEmpty else {
            throw ValidationError("sbatch failed (exit \(process.terminationStatus)); is Slurm available (SLURM_CONF)?")
        }
        return text.split(separator: ";").first.map(String.init) ?? text
    }
}
