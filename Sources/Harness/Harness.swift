import ArgumentParser

/// The `harness` command line. Each subcommand is a small declarative struct in its own file that
/// calls into Experiments; `--help` is the documentation of record.
@main
struct Harness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness",
        abstract: "Parameter-efficient fine-tuning sweeps for 3-D hippocampus segmentation.",
        subcommands: [
            Run.self, Plan.self, Report.self, DataCommand.self, Evaluate.self, ParityCommand.self, Params.self, Bench.self,
            RunCell.self, Slurm.self, Pretrain.self, Diagnose.self, CheckpointCommand.self, Predict.self,
        ]
    )
}
