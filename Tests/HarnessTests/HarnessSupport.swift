import Foundation
import XCTest

/// Runs the built `harness` executable (beside the test bundle) as a separate process.
struct HarnessProcess {
    /// The products folder holds the test bundle (an .xctest file or folder, or on Linux the folder that
    /// contains the test executable) and `harness`; HIPPOPEFT_HARNESS overrides it.
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["HIPPOPEFT_HARNESS"] { return URL(fileURLWithPath: path) }
        var folder = Bundle(for: HarnessBundleMarker.self).bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("harness")
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs to completion.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Output {
        let process = try start(arguments, environment: environment, in: directory)
        let out = process.standardOutput as! Pipe, err = process.standardError as! Pipe
        // Drain stderr on another thread while stdout is read here, so a full pipe never blocks the child.
        final class Box: @unchecked Sendable { var data = Data() }  // written by one thread, read after wait()
        let stderrBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stderrBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let stderr = stderrBox.data
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func start(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }
}

final class HarnessBundleMarker {}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hippopeft-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A sweep small enough for tests: a 16³ UNETR on a few synthetic subjects.
let tinySpec = """
name: tiny
seeds: [0]
backbone:
  name: unetr
  args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, mlp_dim: 48, num_heads: 2}
datasets:
  - name: toy
    layout: synthetic
    synthetic: {kind: hippocampus, style: harp, subjects: 7}
    split: {validation: 1, test: 2, seed: 0}
budgets: [2, 4]
methods: [linear_probe, lora]
training: {epochs: 2, batch_size: 2, validate_every: 1, keep_last: 2}
evaluation: {checkpoint: ensemble}
"""

/// The paths (`cases[0].metrics.dice`) at which two decoded JSON values differ.
func jsonDifferences(_ a: Any, _ b: Any, path: String = "") -> [String] {
    switch (a, b) {
    case let (x as [String: Any], y as [String: Any]):
        return Set(x.keys).union(y.keys).sorted().flatMap { key -> [String] in
            guard let u = x[key], let v = y[key] else { return ["\(path).\(key) (missing on one side)"] }
            return jsonDifferences(u, v, path: "\(path).\(key)")
        }
    case let (x as [Any], y as [Any]):
        guard x.count == y.count else { return ["\(path) (\(x.count) vs \(y.count) elements)"] }
        return zip(x, y).enumerated().flatMap { jsonDifferences($1.0, $1.1, path: "\(path)[\($0)]") }
    default:
        return (a as? NSObject)?.isEqual(b) == true ? [] : ["\(path): \(a) vs \(b)"]
    }
}
