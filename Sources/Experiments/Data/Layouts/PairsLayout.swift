import Foundation

/// Layouts `pairs` and `analyze`: images and labels found by glob patterns and paired by case id
/// (what the wildcards matched; see `Glob`). `analyze` is the same with ANALYZE 7.5 `.hdr`/`.img`
/// defaults (LPBA40).
///
/// Reported as skipped: an image without a label, a label without an image, an ANALYZE header without
/// its `.img`, a file in the searched folders matching neither pattern, a non-image file (`.DS_Store`).
/// Refused: patterns or matches outside the root. A file matching both patterns is used as a label
/// (with a warning).
enum PairsLayout {
    static func scan(_ spec: DatasetSpec, root: DataRoot) throws
        -> (cases: [CaseEntry], skipped: [SkippedFile], warnings: [String])
    {
        let imagePattern = spec.effectiveImages!
        let labelPattern = spec.effectiveLabels!
        _ = try root.resolve(imagePattern, source: "images")
        _ = try root.resolve(labelPattern, source: "labels")
        let imageGlob = Glob(imagePattern)
        let labelGlob = Glob(labelPattern)

        // Absolute patterns (allowed only with allow_outside_root) are walked from "/".
        func base(_ pattern: String) -> String { pattern.hasPrefix("/") ? "/" : root.path }
        func collect(_ glob: Glob, what: String) throws -> [Glob.Match] {
            try glob.matches(under: base(glob.pattern)).map { match in
                var match = match
                match.path = try root.resolve(match.path, source: "\(what) match \(match.path)")
                return match
            }
        }
        let labelMatches = try collect(labelGlob, what: "labels")
        let labelPaths = Set(labelMatches.map(\.path))
        let allImageMatches = try collect(imageGlob, what: "images")
        let imageMatches = allImageMatches.filter { !labelPaths.contains($0.path) }
        var warnings: [String] = []
        if imageMatches.count < allImageMatches.count {
            warnings.append("\(allImageMatches.count - imageMatches.count) file(s) match both the images and the labels "
                            + "pattern and were used as labels; make the images pattern stricter if that is wrong")
        }

        var skipped: [SkippedFile] = []
        func byID(_ matches: [Glob.Match]) throws -> [String: String] {
            var table: [String: String] = [:]
            for match in matches {
                if !ImageFileName.pairComplete(header: match.path) {
                    skipped.append(SkippedFile(path: root.relative(match.path), reason: "ANALYZE header without its .img file"))
                    continue
                }
                if let first = table[match.id] {
                    throw DataError.duplicateCase(
                        dataset: spec.name, id: match.id, first: root.relative(first), second: root.relative(match.path))
                }
                table[match.id] = match.path
            }
            return table
        }
        let images = try byID(imageMatches)
        let labels = try byID(labelMatches)

        var cases: [CaseEntry] = []
        for id in images.keys.sorted() {
            let image = images[id]!
            if let label = labels[id] {
                cases.append(CaseEntry(id: id, source: .files(image: image, label: label)))
            } else {
                skipped.append(SkippedFile(
                    path: root.relative(image), reason: "no label: nothing matches labels '\(labelPattern)' for case '\(id)'"))
            }
        }
        for id in labels.keys.sorted() where images[id] == nil {
            skipped.append(SkippedFile(
                path: root.relative(labels[id]!), reason: "label without an image: nothing matches images '\(imagePattern)' for case '\(id)'"))
        }

        let used = Set(imageMatches.map(\.path) + labelMatches.map(\.path))
        let usedStems = Set(used.map(ImageFileName.stem))
        let folders = Set(imageGlob.leafFolders(under: base(imagePattern)) + labelGlob.leafFolders(under: base(labelPattern)))
        for folder in folders.sorted() {
            for name in DataRoot.listing(folder) {
                let file = folder + "/" + name
                guard !used.contains(file), !DataRoot.isDirectory(file) else { continue }
                if !ImageFileName.isImage(name) {
                    skipped.append(SkippedFile(path: root.relative(file), reason: "not a NIfTI file"))
                } else if ImageFileName.isPairData(name), usedStems.contains(ImageFileName.stem(file)) {
                    continue   // the .img half of a used .hdr
                } else {
                    skipped.append(SkippedFile(
                        path: root.relative(file), reason: "matches neither images '\(imagePattern)' nor labels '\(labelPattern)'"))
                }
            }
        }
        return (cases, skipped, warnings)
    }
}
