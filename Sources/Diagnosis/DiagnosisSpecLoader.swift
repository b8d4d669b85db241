import Backbones
import ConfigDecoding
import Experiments
import Foundation
import Yams

/// Reads a diagnosis spec with the conventions of `SpecLoader`: size and alias bounds, `${VAR}`
/// expansion, unknown keys with "did you mean", wrong types with file, line and column, then the
/// semantic checks (files that must exist, the segmenting sweep's spec and its cells, enough subjects per
/// fold), all reported together as a `SpecError`.
public enum DiagnosisSpecLoader {
    public static func load(_ url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DiagnosisSpec {
        try parse(try SpecLoader.readText(url), file: url.path, environment: environment)
    }

    public static func parse(_ text: String, file: String = "<spec>",
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DiagnosisSpec {
        let located = LocatedText(text: text, file: file)
        // An empty file is every default: the synthetic cohort, reference volumes.
        guard let expanded = try SpecLoader.expandedTree(located, environment: environment) else {
            return try finish(DiagnosisSpec(), expanded: try Yams.compose(yaml: "{}")!, located: located, environment: environment)
        }
        let spec = try SpecLoader.decode(DiagnosisSpec.self, from: expanded, located: located)
        return try finish(spec, expanded: expanded, located: located, environment: environment)
    }

    private static func finish(_ spec: DiagnosisSpec, expanded: Node, located: LocatedText,
                               environment: [String: String]) throws -> DiagnosisSpec {
        var spec = spec
        let problems = spec.validate(environment: environment)
        if !problems.isEmpty {
            throw SpecError(problems.map { located.issue(at: $0.path, in: expanded, message: $0.message) })
        }
        return spec
    }
}

extension DiagnosisSpec {
    /// Problems decoding cannot see, each with the path of the field to fix. Loads the segmenting sweep's
    /// spec into `sweep`.
    mutating func validate(environment: [String: String]) -> [(path: [String], message: String)] {
        var problems: [(path: [String], message: String)] = []
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

        switch cohort {
        case .metadata(let table):
            if !exists(table.metadata) {
                problems.append((["cohort", "metadata"], "cohort table \(table.metadata) does not exist"))
            }
            if segmentation != nil, table.images == nil {
                problems.append((["cohort"], "segmenting a metadata cohort needs `images:` (a path template with {id})"))
            }
            if table.masks == nil, segmentation != nil {
                problems.append((["cohort"], "comparing segmentations needs reference masks: add `masks:` (a path template with {id})"))
            }
        case .synthetic(let synthetic):
            let cohort = synthetic.cohort
            for (t, task) in tasks.enumerated() {
                for group in [task.negative, task.positive] where cohort[group].count < crossValidation.folds {
                    problems.append((["tasks", "[\(t)]"],
                                     "task \(task) needs at least \(crossValidation.folds) \(group.rawValue) subjects (one per fold); "
                                     + "the synthetic cohort has \(cohort[group].count): raise cohort.synthetic.subjects or lower the folds"))
                }
            }
        }

        if let segmentation {
            let url = URL(fileURLWithPath: segmentation.spec)
            if !exists(url.path) {
                problems.append((["segmentation", "spec"], "sweep spec \(segmentation.spec) does not exist"))
            } else {
                do {
                    let loaded = try SpecLoader.load(url, environment: environment)
                    sweep = loaded
                    func check<T>(_ key: String, _ wanted: [T]?, _ available: [String], _ label: (T) -> String) {
                        for (i, item) in (wanted ?? []).enumerated() where !available.contains(label(item)) {
                            let name = label(item)
                            let hint = closestMatch(to: name, in: available).map { " (did you mean '\($0)'?)" } ?? ""
                            problems.append((["segmentation", key, "[\(i)]"],
                                             "\(segmentation.spec) has no \(key.dropLast()) '\(name)'\(hint); it has \(available.joined(separator: ", "))"))
                        }
                    }
                    check("methods", segmentation.methods, loaded.methods.map(\.label)) { $0 }
                    // Every budget some data set asks for (a data set's own `budgets:` replaces the spec's).
                    let budgets = loaded.datasets.flatMap { loaded.budgets(of: $0).map(\.label) }
                        .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                    check("budgets", segmentation.budgets, budgets) { $0.label }
                    check("backbones", segmentation.backbones, loaded.backbones.map(\.label)) { $0 }
                    check("datasets", segmentation.datasets, loaded.datasets.map(\.name)) { $0 }
                    check("seeds", segmentation.seeds, loaded.seeds.map { String($0) }) { String($0) }
                } catch {
                    problems.append((["segmentation", "spec"], "the sweep spec does not load:\n\(error)"))
                }
            }
        }
        return problems
    }
}
