import Foundation

/// The write protocol of the results folder: write a temporary file beside the target, fsync it,
/// rename it into place, fsync the folder. A reader (or a rerun after SIGKILL) sees the old file or the
/// new one, never half of one. The temporary name carries host and process id,
/// `.<name>.<host>.<pid>.tmp`, so a later run can tell a killed writer's leftover from a live write.
extension ResultStore {
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(temporaryName(for: url.lastPathComponent))
        let fd = open(temporary.path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ResultStoreError.notWritable(url.path, String(cString: strerror(errno))) }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : EIO; return }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(temporary.path, url.path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary.path)
            throw ResultStoreError.notWritable(url.path, String(cString: strerror(failure)))
        }
        let directory = open(folder.path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 { fsync(directory); close(directory) }
    }

    static func temporaryName(for name: String) -> String {
        ".\(name).\(ProcessInfo.processInfo.hostName).\(ProcessInfo.processInfo.processIdentifier).tmp"
    }

    /// Deletes the temporary files that writers on this host left when they were killed (their process
    /// is gone). Files of other hosts (a shared file system) and of live processes are left alone.
    static func removeStaleTemporaries(in folder: URL) {
        let host = ProcessInfo.processInfo.hostName
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let stem = name.dropLast(4)
            guard let dot = stem.lastIndex(of: "."), let pid = Int32(stem[stem.index(after: dot)...]),
                  stem[..<dot].hasSuffix(".\(host)") else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder.appendingPathComponent(name).path) }
        }
    }
}
