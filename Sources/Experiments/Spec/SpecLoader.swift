import Backbones
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
        return try parse(text, file: file, baseDirectory: url.deletingLastPathComponent(), environment: environment)
    }

    public static func parse(_ text: String, file: String = "<spec>", baseDirectory: URL? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ExperimentSpec {
        let located = LocatedText(text: text, file: file)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw SpecError([SpecIssue(file: file, path: "", message: "the spec is empty")])
            }
            root = node
        } catch let error as YamlError {
            throw SpecError([located.issue(for: error)])
        }
        var budget = maximumNodes
        var issues: [SpecIssue] = []
        let expanded = try expand(root, path: [], environment: environment, budget: &budget, issues: &issues, located: located)
        if !issues.isEmpty { throw SpecError(issues) }

        let decoder = YAMLDecoder()
        let spec: ExperimentSpec
        do {
            spec = try decoder.decode(ExperimentSpec.self, from: expanded)
        } catch let error as DecodingError {
            throw SpecError([located.issue(for: error, in: expanded)])
        }
        let problems = spec.validate(baseDirectory: baseDirectory)
        if !problems.isEmpty {
            throw SpecError(problems.map { problem in located.issue(at: problem.path, in: expanded, message: problem.message) })
        }
        return spec
    }

    /// A copy of the tree with `${VAR}` expanded in every string, counting nodes as aliases expand.
    static func expand(_ node: Node, path: [String], environment: [String: String], budget: inout Int,
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

/// Maps YAML marks and decoding paths back to file, line, column and a caret snippet.
struct LocatedText {
    let text: String
    let file: String

    private var lines: [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The most characters of a source line a snippet shows: a window around the column, so a
    /// megabyte-long line (or a binary file read as text) is not echoed whole.
    static let snippetWidth = 80

    func snippet(line: Int, column: Int) -> String? {
        guard line >= 1, line <= lines.count else { return nil }
        let source = Array(lines[line - 1])
        let caret = max(0, min(column - 1, source.count))
        let start = max(0, min(caret - Self.snippetWidth / 2, source.count - Self.snippetWidth))
        let end = min(source.count, start + Self.snippetWidth)
        let shown = (start > 0 ? "…" : "") + String(source[start..<end]) + (end < source.count ? "…" : "")
        let offset = caret - start + (start > 0 ? 1 : 0)
        return "  " + shown + "\n  " + String(repeating: " ", count: offset) + "^"
    }

    func issue(at mark: Mark?, path: String, message: String) -> SpecIssue {
        SpecIssue(file: file, line: mark?.line, column: mark?.column, path: path, message: message,
                  snippet: mark.flatMap { snippet(line: $0.line, column: $0.column) })
    }

    func issue(for error: YamlError) -> SpecIssue {
        // YamlError's description puts the reason on the line after the context and then echoes the
        // offending line whole (or, for duplicate keys, the document): take its parts instead.
        let reason: String, position: (line: Int, column: Int)?
        switch error {
        case let .scanner(context, problem, at, _), let .parser(context, problem, at, _), let .composer(context, problem, at, _):
            reason = problem + (context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? "")
            position = (at.line, at.column)
        case let .reader(problem, offset, _, _):
            reason = problem
            position = offset.flatMap(self.position(atUTF8Offset:))
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().prefix(3).map { "'\(Self.bounded($0, 40))'" }.joined(separator: ", ")
            return issue(at: context.mark, path: "", message: "duplicated key \(keys) in a mapping")
        default:
            reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            position = nil
        }
        return SpecIssue(file: file, line: position?.line, column: position?.column, path: "",
                         message: "YAML syntax: " + Self.bounded(reason, 200),
                         snippet: position.flatMap { snippet(line: $0.line, column: $0.column) })
    }

    /// At most `limit` characters of a text that may come from the file.
    static func bounded(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    /// Line and column (1-based) of a byte offset into the text.
    private func position(atUTF8Offset offset: Int) -> (line: Int, column: Int)? {
        let bytes = Array(text.utf8.prefix(offset))
        guard bytes.count == offset else { return nil }
        let line = bytes.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = bytes.count - (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return (line, column)
    }

    func issue(for error: DecodingError, in root: Node) -> SpecIssue {
        let context: DecodingError.Context
        var message: String
        switch error {
        case .typeMismatch(let type, let c):
            context = c
            message = "must be \(typeName(type))" + (foundValue(at: c.codingPath, in: root).map { ", got '\($0)'" } ?? "")
        case .valueNotFound(let type, let c):
            context = c
            message = "must be \(typeName(type)), found nothing"
        case .keyNotFound(let key, let c):
            context = DecodingError.Context(codingPath: c.codingPath, debugDescription: c.debugDescription)
            message = "missing required key '\(key.stringValue)'"
        case .dataCorrupted(let c):
            context = c
            message = c.debugDescription
            if let value = foundValue(at: c.codingPath, in: root), message.contains("Cannot initialize") {
                message = "'\(value)' is not one of the allowed values"
            }
        @unknown default:
            return SpecIssue(file: file, path: "", message: "\(error)")
        }
        return issue(at: context.codingPath.map(pathComponent), in: root, message: message)
    }

    func issue(at path: [String], in root: Node, message: String) -> SpecIssue {
        let node = locate(path, in: root)
        return issue(at: node?.mark, path: path.joined(separator: ".").replacingOccurrences(of: ".[", with: "["), message: message)
    }

    private func pathComponent(_ key: any CodingKey) -> String { key.intValue.map { "[\($0)]" } ?? key.stringValue }

    /// The deepest node along `path` (the parent when the last key is missing).
    private func locate(_ path: [String], in root: Node) -> Node? {
        var node: Node? = root
        for component in path {
            guard let current = node else { break }
            if component.hasPrefix("["), let index = Int(component.dropFirst().dropLast()) {
                guard let sequence = current.sequence, index < sequence.count else { return current }
                node = sequence[index]
            } else if let mapping = current.mapping {
                guard let value = mapping[component] else { return current }
                node = value
            } else {
                return current
            }
        }
        return node
    }

    private func foundValue(at codingPath: [any CodingKey], in root: Node) -> String? {
        guard let node = locate(codingPath.map(pathComponent), in: root) else { return nil }
        if let scalar = node.scalar { return scalar.string }
        if node.mapping != nil { return "a mapping" }
        if node.sequence != nil { return "a list" }
        return nil
    }

    private func typeName(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "Int", "Int64", "Int32": "an integer"
        case "UInt64", "UInt", "UInt32": "an integer ≥ 0"
        case "Double", "Float": "a number"
        case "Bool": "true or false"
        case "String": "a string"
        case let other where other.hasPrefix("Array"): "a list"
        case let other where other.hasPrefix("Dictionary"): "a mapping"
        case let other: other
        }
    }
}
