// Temporary: replaced by Data/ when the data branch lands.
import Backbones
import Foundation
public struct DatasetSpec: Codable, Sendable, Equatable {
    public var name: String
    public var layout: String
    public var root: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case name, layout, root }
    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        name = try read.required(.name); layout = try read.required(.layout); root = try read(.root, nil as String?)
    }
    public func validate(baseDirectory: URL?) -> [(path: [String], message: String)] { [] }
}
public enum Budget: Codable, Sendable, Equatable {
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); switch self { case .count(let n): try c.encode(n); case .all: try c.encode("all") } }
    case count(Int), all
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .count(n) } else { _ = try c.decode(String.self); self = .all }
    }
}
