import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file pattern relative to a data root: path components separated by `/`, each with shell
/// wildcards (`*`, `?`, `[...]`) that never cross a `/` and never match a leading `.` (so `*` skips
/// `.DS_Store`). A match carries the case id: the text the wildcards matched, component by component
/// (the component minus its literal prefix and suffix), repeated parts dropped and the rest joined by
/// `/`. `imagesTr/*_img.nii.gz` matches `imagesTr/sub1_img.nii.gz` as `sub1`, and `*/*.native.mri.hdr`
/// matches `S01/S01.native.mri.hdr` as `S01`.
struct Glob {
    let pattern: String
    let components: [String]

    struct Match: Equatable {
        /// Absolute path of the matching file.
        var path: String
        var id: String
    }

    init(_ pattern: String) {
        self.pattern = pattern
        components = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    static func hasWildcard(_ text: String) -> Bool { text.contains { "*?[".contains($0) } }

    /// Every file under `base` (an absolute folder) matching the pattern, sorted by path.
    func matches(under base: String) -> [Match] {
        var found: [Match] = []
        walk(folder: base, index: 0, captures: [], into: &found)
        return found.sorted { $0.path < $1.path }
    }

    /// The folders whose entries the last component is matched against (for reporting stray files).
    func leafFolders(under base: String) -> [String] {
        var folders: [String] = []
        collectLeaves(folder: base, index: 0, into: &folders)
        return folders.sorted()
    }

    /// Whether a file name matches the pattern's last component.
    func matchesName(_ name: String) -> Bool {
        guard let last = components.last else { return false }
        return Self.fnmatch(last, name)
    }

    private func walk(folder: String, index: Int, captures: [String], into found: inout [Match]) {
        let component = components[index]
        let isLast = index == components.count - 1
        let candidates: [(name: String, capture: String?)]
        if component == "." {
            walk(folder: folder, index: index + 1, captures: captures, into: &found)
            return
        } else if component == ".." || !Self.hasWildcard(component) {
            candidates = [(component, nil)]
        } else {
            candidates = DataRoot.listing(folder)
                .filter { Self.fnmatch(component, $0) }
                .map { ($0, Self.capture(component, in: $0)) }
        }
        for (name, capture) in candidates {
            let path = folder == "/" ? "/" + name : folder + "/" + name
            let next = capture.map { captures + [$0] } ?? captures
            if isLast {
                guard DataRoot.isFile(path) else { continue }
                var parts: [String] = []
                for part in next where !parts.contains(part) { parts.append(part) }
                let id = parts.isEmpty ? ImageFileName.stem(name) : parts.joined(separator: "/")
                found.append(Match(path: path, id: id))
            } else if DataRoot.isDirectory(path) {
                walk(folder: path, index: index + 1, captures: next, into: &found)
            }
        }
    }

    private func collectLeaves(folder: String, index: Int, into folders: inout [String]) {
        if index == components.count - 1 {
            if DataRoot.isDirectory(folder) { folders.append(folder) }
            return
        }
        let component = components[index]
        let names = Self.hasWildcard(component) ? DataRoot.listing(folder).filter { Self.fnmatch(component, $0) } : [component]
        for name in names {
            let path = folder == "/" ? "/" + name : folder + "/" + name
            if component == "." {
                collectLeaves(folder: folder, index: index + 1, into: &folders)
            } else if DataRoot.isDirectory(path) {
                collectLeaves(folder: path, index: index + 1, into: &folders)
            }
        }
    }

    /// The part of `name` between the component's literal prefix and literal suffix.
    static func capture(_ component: String, in name: String) -> String {
        let chars = Array(component)
        guard let first = chars.firstIndex(where: { "*?[".contains($0) }) else { return name }
        var lastWildcardEnd = first + 1
        var i = first
        while i < chars.count {
            if chars[i] == "*" || chars[i] == "?" {
                lastWildcardEnd = i + 1
            } else if chars[i] == "[" {
                var j = i + 1
                if j < chars.count, chars[j] == "!" || chars[j] == "^" { j += 1 }
                if j < chars.count, chars[j] == "]" { j += 1 }
                while j < chars.count, chars[j] != "]" { j += 1 }
                lastWildcardEnd = min(j + 1, chars.count)
                i = j
            }
            i += 1
        }
        let prefix = first
        let suffix = chars.count - lastWildcardEnd
        guard name.count >= prefix + suffix else { return name }
        return String(Array(name)[prefix..<(name.count - suffix)])
    }

    /// Shell-style matching of one path component; a leading `.` is matched only by a literal `.`.
    static func fnmatch(_ pattern: String, _ name: String) -> Bool {
        Glibc.fnmatch(pattern, name, FNM_PERIOD) == 0
    }
}
