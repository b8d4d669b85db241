import ArgumentParser

/// `harness checkpoint inspect|convert`: PyTorch checkpoints read natively (docs/CHECKPOINTS.md).
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Inspect or convert PyTorch checkpoints (.pth/.pt, zip or legacy format) without PyTorch.",
        discussion: """
        The restricted reader builds tensors, containers and numbers only; a checkpoint that names any other \
        global (os.system, builtins.eval, …) is refused and nothing in it runs.
        """,
        subcommands: [CheckpointInspect.self, CheckpointConvert.self])
}
