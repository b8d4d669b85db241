import Foundation

extension DatasetSpec {
    /// Quick checks of the files a spec names, without scanning: the root folder, `dataset.json` (msd)
    /// and the list files. Returns every problem at once (empty when all are there), for spec
    /// validation that lists all missing folders before any work.
    public func fileProblems() -> [DataError] {
        guard layout != .synthetic, let root else { return [] }
        let absolute = DataRoot.normalise(root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root)
        guard DataRoot.isDirectory(absolute) else { return [.missingRoot(dataset: name, path: root)] }
        var problems: [DataError] = []
        if layout == .msd, !DataRoot.isFile(absolute + "/dataset.json") {
            problems.append(.missingIndex(dataset: name, path: absolute + "/dataset.json", what: "dataset.json"))
        }
        let named = [("train", lists?.train), ("validation", lists?.validation), ("test", lists?.test)]
        for case let (key, file?) in named {
            let path = DataRoot.normalise(file.hasPrefix("/") ? file : absolute + "/" + file)
            if !allowOutsideRoot, !(path == absolute || path.hasPrefix(absolute + "/")) {
                problems.append(.outsideRoot(dataset: name, entry: file, source: "lists.\(key)"))
            } else if !DataRoot.isFile(path) {
                problems.append(.missingIndex(dataset: name, path: path, what: "list file (lists.\(key))"))
            }
        }
        return problems
    }
}
