import Foundation

/// One line of a list file.
struct ListLine {
    /// The line as written (trimmed, trailing `/` removed).
    var text: String
    /// Where it was written: `train.txt line 3`.
    var location: String
    /// The case id: the line's last path component.
    var id: String { String(text.split(separator: "/").last ?? Substring(text)) }
}

/// The list files of a spec (`lists:`), read and checked.
struct ListFilesContent {
    var train: [ListLine]?
    var validation: [ListLine]?
    var test: [ListLine]?

    var all: [ListLine] { (train ?? []) + (validation ?? []) + (test ?? []) }

    static func read(_ spec: DatasetSpec, root: DataRoot) throws -> ListFilesContent? {
        guard let lists = spec.lists else { return nil }
        func load(_ file: String?, key: String) throws -> [ListLine]? {
            guard let file else { return nil }
            let path = try root.resolve(file, source: "lists.\(key)")
            guard DataRoot.isFile(path) else {
                throw DataError.missingIndex(dataset: spec.name, path: path, what: "list file (lists.\(key))")
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw DataError.badIndex(dataset: spec.name, path: path, reason: "not readable UTF-8 text")
            }
            let name = (file as NSString).lastPathComponent
            var lines: [ListLine] = []
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                var line = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                line = line.trimmingCharacters(in: .whitespacesAndNewlines)
                while line.count > 1, line.hasSuffix("/") { line.removeLast() }
                if line.isEmpty { continue }
                lines.append(ListLine(text: line, location: "\(name) line \(n + 1)"))
            }
            return lines
        }
        let content = ListFilesContent(
            train: try load(lists.train, key: "train"), validation: try load(lists.validation, key: "validation"),
            test: try load(lists.test, key: "test"))
        var first: [String: String] = [:]
        for line in content.all {
            if let earlier = first[line.id] {
                throw DataError.duplicateCase(dataset: spec.name, id: line.id, first: earlier, second: line.location)
            }
            first[line.id] = line.location
        }
        return content
    }
}

/// Layout `list` (the papers' EADC-HarP layout): the list files name the cases; each case's image and
/// label paths come from the `images`/`labels` templates (`{path}/{id}_img.nii.gz`, `{path}/{id}_mask.nii.gz`).
///
/// Reported as skipped: a listed case whose image or label is missing; non-image files in the case
/// folders (`.DS_Store`). Refused: list lines or templates that lead outside the root.
enum ListLayout {
    static func scan(_ spec: DatasetSpec, root: DataRoot, lists: ListFilesContent) throws
        -> (cases: [CaseEntry], skipped: [SkippedFile])
    {
        let imageTemplate = spec.effectiveImages!
        let labelTemplate = spec.effectiveLabels!
        var cases: [CaseEntry] = []
        var skipped: [SkippedFile] = []
        var folders = Set<String>()
        var used = Set<String>()
        for line in lists.all {
            _ = try root.resolve(line.text, source: line.location)
            let image = try root.resolve(fill(imageTemplate, line), source: "\(line.location) (images: \(imageTemplate))")
            let label = try root.resolve(fill(labelTemplate, line), source: "\(line.location) (labels: \(labelTemplate))")
            folders.insert((image as NSString).deletingLastPathComponent)
            used.formUnion([image, label])
            guard DataRoot.isFile(image) else {
                skipped.append(SkippedFile(path: root.relative(image), reason: "listed in \(line.location), but the image file is missing"))
                continue
            }
            guard DataRoot.isFile(label) else {
                skipped.append(SkippedFile(path: root.relative(image), reason: "no label: \(root.relative(label)) is missing"))
                continue
            }
            cases.append(CaseEntry(id: line.id, source: .files(image: image, label: label)))
        }
        for folder in folders.sorted() {
            for name in DataRoot.listing(folder) where !ImageFileName.isImage(name) {
                let file = folder + "/" + name
                guard !used.contains(file), !DataRoot.isDirectory(file) else { continue }
                skipped.append(SkippedFile(path: root.relative(file), reason: "not a NIfTI file"))
            }
        }
        return (cases, skipped)
    }

    static func fill(_ template: String, _ line: ListLine) -> String {
        template.replacingOccurrences(of: "{path}", with: line.text).replacingOccurrences(of: "{id}", with: line.id)
    }
}
