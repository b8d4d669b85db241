import Foundation

/// Resets the kernel's peak resident-set counter (VmHWM) of this process, so each measurement reports its own.
public func resetPeakMemory() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// Peak resident set size of this process in MB (VmHWM from /proc/self/status).
public func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return vmHWMKilobytes(line).map { $0 / 1024 } ?? 0
    }
    return 0
}

/// The kernel writes `VmHWM:\t%8lu kB`: from 10 GB on (8 digits) no space separates the tab and the number.
func vmHWMKilobytes(_ line: Substring) -> Double? {
    line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace).first.flatMap { Double($0) }
}

/// The CPU's model name from /proc/cpuinfo ("AMD EPYC 7B13"), nil where there is none; read once.
public let cpuModelName: String? = {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in info.split(separator: "\n") where line.hasPrefix("model name") {
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
    }
    return nil
}()
