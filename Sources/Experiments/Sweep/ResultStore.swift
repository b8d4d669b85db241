import Foundation

public enum ResultStoreError: Error, CustomStringConvertible {
    case notWritable(String, String)
    case unreadableRecord(String, String)

    public var description: String {
        switch self {
        case .notWritable(let path, let reason): "cannot write to the results folder at \(path): \(reason); free space, make it writable or choose another --results (finished records are kept)"
        case .unreadableRecord(let path, let reason): "record \(path) is unreadable (\(reason)); delete it to rerun that cell"
        }
    }
}

/// The results folder: `cells/<key>.json` records, `claims/<key>` markers of cells being run,
/// `work/<key>/` checkpoints of unfinished cells, `pretrained/` shared stages, `logs/`, and reports.
/// Every file is written to a temporary name, synced and renamed, so a reader never sees half a file.
public struct ResultStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// Where a spec's results go when no folder is named: results/<spec name>, relative to the
    /// working directory (the one default of every command that takes a spec).
    public static func defaultRoot(specName: String) -> URL { URL(fileURLWithPath: "results/\(specName)") }

    public var cells: URL { root.appendingPathComponent("cells") }
    public var claims: URL { root.appendingPathComponent("claims") }
    public var work: URL { root.appendingPathComponent("work") }
    public var pretrained: URL { root.appendingPathComponent("pretrained") }
    public var logs: URL { root.appendingPathComponent("logs") }
    /// The trained weights of finished cells (`models/<key>/epoch-N.safetensors`: trainable parameters
    /// and buffers of the checkpoints the test predictions used), for later inference.
    public var models: URL { root.appendingPathComponent("models") }
    public func modelFolder(_ key: String) -> URL { models.appendingPathComponent(key) }

    /// Creates the folders and checks that each can be written (`access`, so a read-only file system
    /// is named as such), then deletes temporary files that killed runs on this host left behind.
    public func prepare() throws {
        for folder in [root, cells, claims, work, pretrained, logs, models] {
            try Self.createFolder(folder)
            guard access(folder.path, W_OK) == 0 else {
                throw ResultStoreError.notWritable(folder.path, String(cString: strerror(errno)))
            }
        }
        Self.removeStaleTemporaries(in: root)
        Self.removeStaleTemporaries(in: cells)
    }

    /// Creates a folder and its parents. A file where a folder belongs (`--results afile/sub`) is named
    /// itself, instead of Foundation's "NSCocoaErrorDomain error 512" for the whole path.
    public static func createFolder(_ folder: URL) throws {
        var ancestor = folder.standardizedFileURL
        while ancestor.path != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
                guard isFolder.boolValue else {
                    let what = ancestor.path == folder.standardizedFileURL.path ? "folder" : "folder above \(folder.path)"
                    throw ResultStoreError.notWritable(ancestor.path, "it is a file, where a \(what) belongs")
                }
                break
            }
            ancestor.deleteLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ResultStoreError.notWritable(folder.path, Self.reason(error))
        }
    }

    /// The POSIX reason inside a Foundation file error, else its description.
    static func reason(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }

    public func recordURL(_ key: String) -> URL { cells.appendingPathComponent(key + ".json") }
    public func workFolder(_ key: String) -> URL { work.appendingPathComponent(key) }

    /// Deletes the checkpoints of a finished cell once its record is saved (its kept models are in
    /// `models/<key>/`); a failed cell's stay for inspection.
    public func removeWork(of record: CellRecord) {
        guard record.status == .done else { return }
        try? FileManager.default.removeItem(at: workFolder(record.key))
    }

    /// The record of a finished cell. A failed record does not count: bad input that was fixed, or a
    /// fault that has passed, must not keep a cell failed forever, so the next run retries it.
    public func finishedRecord(_ key: String) throws -> CellRecord? {
        guard let record = try record(key), record.status == .done else { return nil }
        return record
    }

    public func record(_ key: String) throws -> CellRecord? {
        let url = recordURL(key)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Self.decoder.decode(CellRecord.self, from: Data(contentsOf: url))
        } catch {
            throw ResultStoreError.unreadableRecord(url.path, "\(error)")
        }
    }

    /// Every readable record (unreadable ones are reported, not fatal, when `problems` is given).
    public func allRecords(problems: ((String) -> Void)? = nil) -> [CellRecord] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: cells.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            do {
                return try Self.decoder.decode(CellRecord.self, from: Data(contentsOf: cells.appendingPathComponent(name)))
            } catch {
                problems?("skipping unreadable record \(name): \(error)")
                return nil
            }
        }
    }

    public func save(_ record: CellRecord) throws {
        try Self.writeAtomically(try Self.encoder.encode(record), to: recordURL(record.key))
    }

    /// Claims a cell for this process: true when the claim is ours. A claim left by a process that no
    /// longer runs (same host) or older than `staleAfter` seconds is taken over.
    public func claim(_ key: String, staleAfter: TimeInterval = 7 * 24 * 3600) throws -> Bool {
        let url = claims.appendingPathComponent(key)
        let host = ProcessInfo.processInfo.hostName, pid = ProcessInfo.processInfo.processIdentifier
        let content = "\(host) \(pid) \(Date().timeIntervalSince1970)\n"
        for _ in 0..<2 {
            let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd >= 0 {
                _ = content.withCString { write(fd, $0, strlen($0)) }
                fsync(fd)
                close(fd)
                return true
            }
            guard errno == EEXIST else { throw ResultStoreError.notWritable(url.path, String(cString: strerror(errno))) }
            guard isStale(url, host: host, staleAfter: staleAfter) else { return false }
            try? FileManager.default.removeItem(at: url)
        }
        return false
    }

    /// What `claimUnfinished` found.
    public enum ClaimOutcome {
        case ours
        case heldByAnother
        case finished(CellRecord)
    }

    /// Claims a cell that has no finished record. The record is looked for again once the claim is
    /// ours: a runner lists its cells when it starts, and another runner sharing the folder may have
    /// finished one of them and released its claim since (the claim alone would let it run twice).
    public func claimUnfinished(_ key: String) throws -> ClaimOutcome {
        guard try claim(key) else { return .heldByAnother }
        do {
            guard let record = try finishedRecord(key) else { return .ours }
            release(key)
            return .finished(record)
        } catch {
            release(key)
            throw error
        }
    }

    public func release(_ key: String) { try? FileManager.default.removeItem(at: claims.appendingPathComponent(key)) }

    private func isStale(_ url: URL, host: String, staleAfter: TimeInterval) -> Bool {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return false }
        let fields = text.split(separator: " ")
        guard fields.count >= 3, let pid = Int32(fields[1]), let time = Double(fields[2].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return true
        }
        if Date().timeIntervalSince1970 - time > staleAfter { return true }
        // On the same host, a claim whose process is gone is stale (a killed run).
        return String(fields[0]) == host && kill(pid, 0) != 0 && errno == ESRCH
    }

    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}
