import Foundation

/// One problem in a spec, located: file, line and column (1-based), the field path, and what to do.
public struct SpecIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var path: String
    public var message: String
    /// The offending source line with a caret under the column.
    public var snippet: String?

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String, snippet: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.snippet = snippet
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        let field = path.isEmpty ? "" : "'\(path)': "
        return "\(location): error: \(field)\(message)" + (snippet.map { "\n" + $0 } ?? "")
    }
}

/// Every problem found in a spec, reported at once before any work starts.
public struct SpecError: Error, CustomStringConvertible {
    public var issues: [SpecIssue]

    public init(_ issues: [SpecIssue]) { self.issues = issues }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
            + (issues.count > 1 ? "\n\(issues.count) problems in the spec" : "")
    }
}
