import Foundation

extension DatasetSpec {
    /// Problems visible without scanning: a missing root folder or list file.
    func validate() -> [(path: [String], message: String)] {
        guard layout != .synthetic else { return [] }
        guard let root else { return [(["root"], "layout \(layout.rawValue) needs a `root` folder")] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [(["root"], "data folder \(root) does not exist (set HIPPOPEFT_DATA or fix the path)")]
        }
        var problems: [(path: [String], message: String)] = []
        for (key, file) in [("train", lists?.train), ("validation", lists?.validation), ("test", lists?.test)] {
            guard let file else { continue }
            let path = file.hasPrefix("/") ? file : root + "/" + file
            if !FileManager.default.fileExists(atPath: path) {
                problems.append((["lists", key], "list file \(path) does not exist"))
            }
        }
        return problems
    }
}
