import ArgumentParser
import Experiments
import Foundation

struct RunCell: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-cell",
        abstract: "Run one cell of a sweep by index (what each Slurm array task calls).",
        discussion: "Safe when several tasks share a results folder: each cell is claimed atomically; a done cell is skipped.")

    @Argument(help: "The YAML spec.")
    var spec: String
    @Option(help: "Results folder.")
    var results: String
    @Option(help: "The cell's index (0-based, as listed by `harness plan`).")
    var index: Int

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: spec)
            let experiment = try SpecLoader.load(url)
            let store = ResultStore(root: URL(fileURLWithPath: results))
            let runner = SweepRunner(spec: experiment, store: store, baseDirectory: url.deletingLastPathComponent())
            guard let record = try runner.runCell(index: index, logPath: ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"]
                .map { _ in store.logs.appendingPathComponent("cell-\(index).log").path }) else {
                note("cell \(index) is being run by another task")
                return
            }
            if record.status == .failed { throw ExitCode.failure }
        }
    }
}

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the spec's pre-training stage for every backbone that needs it (once; shared by all cells).")

    @Argument(help: "The YAML spec.")
    var spec: String
    @Option(help: "Results folder.")
    var results: String

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: spec)
            let experiment = try SpecLoader.load(url)
            let runner = SweepRunner(spec: experiment, store: ResultStore(root: URL(fileURLWithPath: results)),
                                     baseDirectory: url.deletingLastPathComponent())
            for backbone in experiment.backbones { _ = try runner.weights(for: backbone) }
        }
    }
}

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

    @Argument(help: "The YAML spec.")
    var spec: String
    @Option(help: "Results folder (shared by the tasks).")
    var results: String
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
            let url = URL(fileURLWithPath: spec).standardizedFileURL
            let experiment = try SpecLoader.load(url)
            try checkLabels(experiment, specPath: spec)
            let store = ResultStore(root: URL(fileURLWithPath: results).standardizedFileURL)
            // Before anything is written: a bad --time or --mem is refused, and the request comes from the measurements.
            let resources = try SlurmSizing.resources(spec: experiment, store: store, baseDirectory: url.deletingLastPathComponent(),
                                                      flags: SlurmRequest(time: time, cpusPerTask: cpusPerTask, memory: mem))
            let runner = SweepRunner(spec: experiment, store: store, baseDirectory: url.deletingLastPathComponent())
            try store.prepare()
            let cells = try runner.cells()
            // A budget larger than a pool would fail its array tasks: refuse before writing or submitting.
            try BudgetCheck.verify(cells: cells, training: experiment.training, open: runner.dataset)
            try SweepManifest(spec: experiment, specPath: url.path, cells: cells).save(to: store)
            let pending = try cells.filter { try store.finishedRecord($0.key) == nil }.map(\.index)
            guard !pending.isEmpty else {
                print("every cell of \(experiment.name) is done; nothing to submit")
                return
            }
            var options = SlurmPlan.Options()
            (options.partition, options.time, options.cpusPerTask, options.memory, options.account, options.extra) =
                (partition, resources.time, resources.cpusPerTask, resources.memory, account, sbatchOptions)
            let executable = harness ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
            let plan = try SlurmPlan.write(specPath: url.path, store: store, pending: pending,
                                           needsPretraining: runner.needsPretraining(), harness: executable, options: options)
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
