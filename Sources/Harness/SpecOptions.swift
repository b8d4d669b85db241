import ArgumentParser
import Experiments
import Foundation

/// The spec and results folder that the sweep commands (and `diagnose`) take, with the one default
/// of the results folder (`ResultStore.defaultRoot`: results/<spec name>).
struct SpecOptions: ParsableArguments {
    @Argument(help: "The YAML spec.")
    var spec: String
    @Option(help: "Results folder (default: results/<spec name>).")
    var results: String?

    var specURL: URL { URL(fileURLWithPath: spec).standardizedFileURL }

    /// The results folder of the spec named `name`.
    func store(specName name: String) -> ResultStore {
        ResultStore(root: results.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? ResultStore.defaultRoot(specName: name))
    }

    /// The experiment spec, checked completely (and, with `checkingLabels`, its labels against the backbones).
    func load(checkingLabels: Bool = false) throws -> (ExperimentSpec, ResultStore) {
        let experiment = try SpecLoader.load(specURL)
        if checkingLabels { try checkLabels(experiment, specPath: spec) }
        return (experiment, store(specName: experiment.name))
    }
}
