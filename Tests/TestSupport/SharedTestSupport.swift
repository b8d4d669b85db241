import Foundation
import XCTest

/// The one locator of what tests read from `../shared`: the data ($HIPPOPEFT_DATA, else
/// ../shared/data) and the fixtures ($HIPPOPEFT_SHARED, else ../shared), both beside the package root.
public enum SharedData {
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // package root

    /// The shared folder (fixtures, data): $HIPPOPEFT_SHARED, else ../shared next to the package root.
    public static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["HIPPOPEFT_SHARED"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent("../shared").standardizedFileURL
    }

    public static var root: URL {
        if let path = ProcessInfo.processInfo.environment["HIPPOPEFT_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return shared.appendingPathComponent("data")
    }

    /// `shared/fixtures/<relative>`, or an XCTSkip saying where it was looked for.
    public static func fixture(_ relative: String) throws -> URL {
        let url = shared.appendingPathComponent("fixtures").appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("fixture \(url.path) is absent; set HIPPOPEFT_SHARED to the folder that holds fixtures/ to run this test")
        }
        return url
    }

    /// The MSD Task04 folder, or an XCTSkip saying where it was looked for.
    public static func msdHippocampus() throws -> URL {
        let folder = root.appendingPathComponent("msd-hippocampus")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("dataset.json").path) else {
            throw XCTSkip(
                "MSD Hippocampus data not found at \(folder.path); set HIPPOPEFT_DATA to the folder that holds "
                    + "msd-hippocampus/ to run this test")
        }
        return folder
    }
}

/// A fresh folder per test, removed afterwards.
public final class TemporaryFolder {
    public let url: URL

    public init(prefix: String = "hippopeft-tests") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public var path: String { url.path }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
}
