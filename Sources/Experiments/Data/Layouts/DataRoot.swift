import Foundation

/// A data set's root folder and the rules for entries under it: paths are resolved lexically (`.` and
/// `..` folded), and entries that leave the root (`../x`, `/abs/x`) are refused unless the spec allows
/// them. The same rule holds through symbolic links: an entry whose real path (every link followed)
/// lies outside the root's real path is refused too, before the file is opened, so a link planted in
/// a data folder cannot make a run read (or an error message echo) a file elsewhere. A folder of links
/// to another copy of the data needs `allow_outside_root: true`.
struct DataRoot {
    let dataset: String
    /// Absolute, normalised, without a trailing slash.
    let path: String
    /// `path` with every symbolic link resolved.
    let realPath: String
    let allowOutside: Bool

    init(dataset: String, root: String, allowOutside: Bool) throws {
        self.dataset = dataset
        self.allowOutside = allowOutside
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        path = Self.normalise(absolute)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.missingRoot(dataset: dataset, path: root)
        }
        realPath = Self.followingLinks(path) ?? path
    }

    /// The absolute path of `entry` (relative to the root, or absolute), refused with `outsideRoot`
    /// when it leaves the root and that is not allowed. `source` names where the entry was written.
    func resolve(_ entry: String, source: String) throws -> String {
        let trimmed = entry.trimmingCharacters(in: .whitespaces)
        let resolved = Self.normalise(trimmed.hasPrefix("/") ? trimmed : path + "/" + trimmed)
        if !allowOutside, !contains(resolved) {
            throw DataError.outsideRoot(dataset: dataset, entry: entry, source: source)
        }
        // A missing file has no real path; it is reported as missing and never opened.
        if !allowOutside, let target = Self.followingLinks(resolved), !Self.lies(target, under: realPath) {
            throw DataError.linkOutsideRoot(dataset: dataset, entry: entry, source: source, target: target)
        }
        return resolved
    }

    func contains(_ absolute: String) -> Bool { Self.lies(absolute, under: path) }

    static func lies(_ absolute: String, under folder: String) -> Bool {
        absolute == folder || absolute.hasPrefix(folder == "/" ? "/" : folder + "/")
    }

    /// The path with every symbolic link followed (`realpath`); nil when it does not exist.
    static func followingLinks(_ absolute: String) -> String? {
        guard let resolved = realpath(absolute, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `absolute` relative to the root where it lies under it, else unchanged.
    func relative(_ absolute: String) -> String {
        guard contains(absolute), absolute != path else { return absolute }
        return String(absolute.dropFirst(path == "/" ? 1 : path.count + 1))
    }

    /// Folds `.` and `..` and repeated slashes of an absolute path (no file-system access).
    static func normalise(_ absolute: String) -> String {
        var parts: [Substring] = []
        for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Names in a folder, hidden ones included, sorted; empty when it is not a readable folder.
    static func listing(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}

/// NIfTI and ANALYZE file names.
enum ImageFileName {
    static let headerSuffixes = [".nii.gz", ".nii", ".hdr.gz", ".hdr"]
    static let pairDataSuffixes = [".img.gz", ".img"]

    /// A name a volume reader accepts (`.nii`, `.nii.gz`, `.hdr`, `.img`, gzipped pair halves).
    static func isImage(_ name: String) -> Bool {
        !name.hasPrefix(".") && (headerSuffixes + pairDataSuffixes).contains { name.hasSuffix($0) && name.count > $0.count }
    }

    /// The voxel half of an ANALYZE/NIfTI pair (`.img`), which belongs to its `.hdr`.
    static func isPairData(_ name: String) -> Bool { pairDataSuffixes.contains { name.hasSuffix($0) } }

    /// The name without its image suffix: `hippocampus_001.nii.gz` → `hippocampus_001`.
    static func stem(_ name: String) -> String {
        for suffix in headerSuffixes + pairDataSuffixes where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    /// For an ANALYZE/NIfTI pair header, whether its `.img` half exists next to it.
    static func pairComplete(header path: String) -> Bool {
        guard let suffix = [".hdr.gz", ".hdr"].first(where: path.hasSuffix) else { return true }
        let base = String(path.dropLast(suffix.count))
        return pairDataSuffixes.contains { DataRoot.isFile(base + $0) }
    }
}
