import Yams

/// Maps YAML marks and decoding paths back to file, line, column and a caret snippet.
package struct LocatedText {
    package let text: String
    package let file: String

    package init(text: String, file: String) {
        self.text = text
        self.file = file
    }

    private var lines: [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The most characters of a source line a snippet shows: a window around the column, so a
    /// megabyte-long line (or a binary file read as text) is not echoed whole.
    static let snippetWidth = 80

    package func snippet(line: Int, column: Int) -> String? {
        guard line >= 1, line <= lines.count else { return nil }
        let source = Array(lines[line - 1])
        let caret = max(0, min(column - 1, source.count))
        let start = max(0, min(caret - Self.snippetWidth / 2, source.count - Self.snippetWidth))
        let end = min(source.count, start + Self.snippetWidth)
        let shown = (start > 0 ? "…" : "") + String(source[start..<end]) + (end < source.count ? "…" : "")
        let offset = caret - start + (start > 0 ? 1 : 0)
        return "  " + shown + "\n  " + String(repeating: " ", count: offset) + "^"
    }

    package func issue(at mark: Mark?, path: String, message: String) -> SpecIssue {
        SpecIssue(file: file, line: mark?.line, column: mark?.column, path: path, message: message,
                  snippet: mark.flatMap { snippet(line: $0.line, column: $0.column) })
    }

    package func issue(for error: YamlError) -> SpecIssue {
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
    package static func bounded(_ text: String, _ limit: Int) -> String {
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

    package func issue(for error: DecodingError, in root: Node) -> SpecIssue {
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

    package func issue(at path: [String], in root: Node, message: String) -> SpecIssue {
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
