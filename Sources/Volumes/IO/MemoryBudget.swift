import Foundation

/// How many bytes this process can still allocate: the least of physical memory, the memory the
/// kernel reports available, the address-space and data limits (`ulimit -v`, `-d`) minus what is
/// already mapped, and a cgroup memory limit (containers, Slurm) minus what the group uses.
///
/// A NIfTI header may legally describe 2^31 voxels that a 1 MB gzip file inflates to; the readers
/// compare what decoding would take with this budget before allocating, so such a file is refused
/// with one line instead of aborting the process (`failed to allocate …`) or pushing it into swap.
public enum MemoryBudget {
    public static func affordableBytes() -> Int {
        var limits = [physicalBytes()]
        if let available = meminfo("MemAvailable") { limits.append(available) }
        for (resource, used) in [(RLIMIT_AS, statusField("VmSize")), (RLIMIT_DATA, statusField("VmData"))] {
            var limit = rlimit()
            // RLIM_INFINITY is all ones, above Int.max.
            if getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max) {
                limits.append(max(0, Int(limit.rlim_cur) - (used ?? 0)))
            }
        }
        if let cgroup = cgroupHeadroom() { limits.append(cgroup) }
        return limits.min() ?? Int.max
    }

    /// "1.5 GB" style, for messages.
    public static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GB", Double(bytes) / Double(1 << 30))
            : String(format: "%.0f MB", (Double(bytes) / Double(1 << 20)).rounded(.up))
    }

    static func physicalBytes() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : Int.max
    }

    /// A "Name:   123 kB" line of /proc/meminfo, in bytes.
    static func meminfo(_ name: String) -> Int? { kilobyteField(name, in: "/proc/meminfo") }

    /// A "Name:   123 kB" line of /proc/self/status, in bytes.
    static func statusField(_ name: String) -> Int? { kilobyteField(name, in: "/proc/self/status") }

    private static func kilobyteField(_ name: String, in file: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// Limit minus usage of this process's cgroup (v2, else v1); nil without a limit.
    static func cgroupHeadroom() -> Int? {
        func number(_ path: String) -> Int? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let pairs = [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                     ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")]
        for (limitFile, usageFile) in pairs {
            // "max" (v2) does not parse; v1 reports "no limit" as a number near 2^63.
            guard let limit = number(limitFile), limit < 1 << 50 else { continue }
            return max(0, limit - (number(usageFile) ?? 0))
        }
        return nil
    }
}
