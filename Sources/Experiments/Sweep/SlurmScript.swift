import Foundation

/// Writes sbatch scripts that hand a sweep to Slurm: one array task per pending cell (`harness run-cell`),
/// and, when a backbone needs the spec's pre-training stage that has not run yet, a pre-training job
/// the array depends on.
public struct SlurmPlan: Sendable {
    public struct Options: Sendable {
        public var partition: String?
        public var time: String = "24:00:00"
        public var cpusPerTask: Int = 2
        public var memory: String = "16G"
        public var account: String?
        public var extra: [String] = []
        public init() {}
    }

    public let arrayScript: URL
    public let pretrainingScript: URL?
    public let pendingIndices: [Int]

    /// The scripts for `pending` cells of `specPath`, written into `RESULTS/slurm/`.
    public static func write(specPath: String, store: ResultStore, pending: [Int], needsPretraining: Bool,
                             harness: String, options: Options) throws -> SlurmPlan {
        let folder = store.root.appendingPathComponent("slurm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: store.logs, withIntermediateDirectories: true)
        func header(_ name: String, output: String) -> String {
            var lines = ["#!/bin/bash", "#SBATCH --job-name=\(name)", "#SBATCH --output=\(output)",
                         "#SBATCH --time=\(options.time)", "#SBATCH --cpus-per-task=\(options.cpusPerTask)",
                         "#SBATCH --mem=\(options.memory)"]
            if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
            if let account = options.account { lines.append("#SBATCH --account=\(account)") }
            lines += options.extra.map { "#SBATCH \($0)" }
            return lines.joined(separator: "\n")
        }
        let environment = """
            set -euo pipefail
            export HIPPOPEFT_THREADS="${SLURM_CPUS_PER_TASK:-\(options.cpusPerTask)}"
            """
        let quotedSpec = shellQuote(specPath), quotedResults = shellQuote(store.root.path), quotedHarness = shellQuote(harness)
        var pretrainingScript: URL?
        if needsPretraining {
            let url = folder.appendingPathComponent("pretrain.sbatch")
            let text = header("hippopeft-pretrain", output: store.logs.appendingPathComponent("pretrain-%j.log").path) + "\n"
                + environment + "\nexec \(quotedHarness) pretrain \(quotedSpec) --results \(quotedResults)\n"
            try ResultStore.writeAtomically(Data(text.utf8), to: url)
            pretrainingScript = url
        }
        let url = folder.appendingPathComponent("cells.sbatch")
        let ranges = compactRanges(pending)
        let text = header("hippopeft-cells", output: store.logs.appendingPathComponent("cell-%a.log").path)
            + "\n#SBATCH --array=\(ranges)\n" + environment
            + "\nexec \(quotedHarness) run-cell \(quotedSpec) --results \(quotedResults) --index \"$SLURM_ARRAY_TASK_ID\"\n"
        try ResultStore.writeAtomically(Data(text.utf8), to: url)
        chmod(url.path, 0o755)
        if let pretrainingScript { chmod(pretrainingScript.path, 0o755) }
        return SlurmPlan(arrayScript: url, pretrainingScript: pretrainingScript, pendingIndices: pending)
    }

    /// `0-3,7,9-10` from sorted indices.
    static func compactRanges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
