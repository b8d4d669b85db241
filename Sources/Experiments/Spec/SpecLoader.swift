import Backbones
import ConfigDecoding
import Foundation
import Yams

/// Reads a YAML spec into an `ExperimentSpec`, checking it completely before any work starts:
/// YAML syntax, `${VAR}` expansion, alias expansion bounds (an alias bomb is refused), unknown keys
/// (with "did you mean"), wrong types (with line and column), then the semantic checks of
/// `ExperimentSpec.validate`, all reported together.
public enum SpecLoader {
    /// A spec larger than this is refused before parsing.
    public static let maximumBytes = 1 << 20
    /// The most YAML nodes a spec may expand to once aliases are resolved.
    public static let maximumNodes = 100_000

    public static func load(_ url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ExperimentSpec {
        try parse(try readText(url), file: url.path, environment: environment)
    }

    /// A spec file's text: present, at most `maximumBytes`, UTF-8 (also the diagnosis spec's reader).
    package static func readText(_ url: URL) throws -> String {
        let file = url.path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else {
            throw SpecError([SpecIssue(file: file, path: "", message: "no such spec file")])
        }
        guard (attributes[.size] as? Int ?? 0) <= maximumBytes else {
            throw SpecError([SpecIssue(file: file, path: "", message: "spec is larger than \(maximumBytes) bytes")])
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SpecError([SpecIssue(file: file, path: "", message: "spec is not readable UTF-8 text")])
        }
        return text
    }

    public static func parse(_ text: String, file: String = "<spec>",
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ExperimentSpec {
        let located = LocatedText(text: text, file: file)
        guard let expanded = try expandedTree(located, environment: environment) else {
            throw SpecError([SpecIssue(file: file, path: "", message: "the spec is empty")])
        }
        let spec = try decode(ExperimentSpec.self, from: expanded, located: located)
        let problems = spec.validate()
        if !problems.isEmpty {
            throw SpecError(problems.map { problem in located.issue(at: problem.path, in: expanded, message: problem.message) })
        }
        return spec
    }

    /// The YAML tree of a spec's text with `${VAR}` expanded and aliases bounded, or nil for an empty
    /// document; syntax errors and unset variables are located issues (also the diagnosis spec's reader).
    package static func expandedTree(_ located: LocatedText, environment: [String: String]) throws -> Node? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: located.text) else { return nil }
            root = node
        } catch let error as YamlError {
            throw SpecError([located.issue(for: error)])
        }
        var budget = maximumNodes
        var issues: [SpecIssue] = []
        let expanded = try expand(root, path: [], environment: environment, budget: &budget, issues: &issues, located: located)
        if !issues.isEmpty { throw SpecError(issues) }
        return expanded
    }

    /// `T` decoded from an expanded tree; a wrong type or unknown key becomes a located issue.
    package static func decode<T: Decodable>(_ type: T.Type, from tree: Node, located: LocatedText) throws -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: tree)
        } catch let error as DecodingError {
            throw SpecError([located.issue(for: error, in: tree)])
        }
    }

    /// A copy of the tree with `${VAR}` expanded in every string, counting nodes as aliases expand.
    package static func expand(_ node: Node, path: [String], environment: [String: String], budget: inout Int,
                               issues: inout [SpecIssue], located: LocatedText) throws -> Node {
        budget -= 1
        if budget < 0 {
            throw SpecError([SpecIssue(file: located.file, path: "", message:
                "the spec expands to more than \(maximumNodes) nodes (an alias bomb?); refused")])
        }
        switch node {
        case .scalar(var scalar):
            guard scalar.string.contains("${") else { return node }
            switch expandVariables(scalar.string, environment) {
            case .success(let value): scalar.string = value
            case .failure(let missing):
                issues.append(located.issue(at: scalar.mark, path: path.joined(separator: "."),
                                            message: "environment variable \(missing.name) is not set; export it or edit the path"))
            }
            return .scalar(scalar)
        case .mapping(var mapping):
            var pairs: [(Node, Node)] = []
            for (key, value) in mapping {
                // Decoding looks keys up by name and would pass over `{}: x` or `[a]: x` silently.
                if key.scalar == nil {
                    issues.append(located.issue(at: key.mark, path: path.joined(separator: "."),
                                                message: "a key must be a plain name, not a list or mapping"))
                }
                pairs.append((key, try expand(value, path: path + [key.string ?? "?"], environment: environment,
                                              budget: &budget, issues: &issues, located: located)))
            }
            mapping = Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark)
            return .mapping(mapping)
        case .sequence(var sequence):
            var items: [Node] = []
            for (i, item) in sequence.enumerated() {
                items.append(try expand(item, path: path + ["[\(i)]"], environment: environment, budget: &budget,
                                        issues: &issues, located: located))
            }
            sequence = Node.Sequence(items, sequence.tag, sequence.style, sequence.mark)
            return .sequence(sequence)
        case .alias:
            return node
        }
    }

    struct MissingVariable: Error { let name: String }

    /// `${NAME}` replaced by the environment's value; `$${` escapes a literal `${`.
    static func expandVariables(_ text: String, _ environment: [String: String]) -> Result<String, MissingVariable> {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                result += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else { return .failure(MissingVariable(name: name)) }
            result += rest[..<start.lowerBound] + value
            rest = rest[rest.index(after: end)...]
        }
        return .success(result + rest)
    }
}
