import ConfigDecoding
import Foundation
import Tensors

/// `{"backbone": "unetr" | "swinunetr", "args": {MONAI constructor arguments}}`, as in the parity
/// fixtures' config.json and in experiment specs. Unknown argument names are rejected.
public enum BackboneConfig: Codable, Sendable, Equatable {
    case unetr(UNETRConfig)
    case swinunetr(SwinUNETRConfig)

    public static let kinds = ["unetr", "swinunetr"]

    private enum CodingKeys: String, CodingKey, CaseIterable { case backbone, name, args }

    /// `backbone` (the fixtures' key) or `name` (specs) holds the kind.
    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind: String = read.contains(.name) ? try read.required(.name) : try read.required(.backbone)
        switch kind {
        case "unetr": self = .unetr(try container.decode(UNETRConfig.self, forKey: .args))
        case "swinunetr": self = .swinunetr(try container.decode(SwinUNETRConfig.self, forKey: .args))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .backbone, in: container,
                debugDescription: "unknown backbone '\(kind)' (known: \(Self.kinds.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .unetr(let args): try container.encode("unetr", forKey: .backbone); try container.encode(args, forKey: .args)
        case .swinunetr(let args): try container.encode("swinunetr", forKey: .backbone); try container.encode(args, forKey: .args)
        }
    }

    public var kind: String {
        switch self {
        case .unetr: "unetr"
        case .swinunetr: "swinunetr"
        }
    }

    public var inChannels: Int {
        switch self {
        case .unetr(let c): c.inChannels
        case .swinunetr(let c): c.inChannels
        }
    }

    public var outChannels: Int {
        switch self {
        case .unetr(let c): c.outChannels
        case .swinunetr(let c): c.outChannels
        }
    }

    /// The same backbone with another output block (e.g. one channel, to reconstruct images).
    public func withOutChannels(_ count: Int) -> BackboneConfig {
        switch self {
        case .unetr(var c): c.outChannels = count; return .unetr(c)
        case .swinunetr(var c): c.outChannels = count; return .swinunetr(c)
        }
    }

    /// The size (NIfTI order) of the crops it trains on and the windows it predicts: `requested` (a
    /// spec's `training.patch_size`, nil when absent) checked by each backbone's own rule.
    public func inputSize(requested: [Int]?) throws -> [Int] {
        switch self {
        case .unetr(let c): try c.inputSize(requested: requested)
        case .swinunetr(let c): try c.inputSize(requested: requested)
        }
    }

    /// Reads a `config.json` of the fixtures' format.
    public static func load(contentsOf url: URL) throws -> BackboneConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BackboneError.invalidConfiguration("cannot read \(url.path): \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        // The parity fixtures' config.json also records how it was made.
        decoder.userInfo[.ignoredOptionKeys] = Set(["monai_version", "torch_version", "parameter_count", "unused_parameters"])
        do { return try decoder.decode(BackboneConfig.self, from: data) } catch {
            throw BackboneError.invalidConfiguration("\(url.path): \(describeDecodingError(error))")
        }
    }
}

public enum BackboneError: Error, CustomStringConvertible {
    case invalidConfiguration(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): "invalid backbone configuration: \(message)"
        case .invalidInput(let message): "invalid backbone input: \(message)"
        }
    }
}

/// A size given as one number for every axis or as a list (MONAI's `ensure_tuple_rep`).
struct SpatialSize: Codable, Sendable, Equatable {
    var values: [Int]
    init(_ values: [Int]) { self.values = values }
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int.self) { values = [n, n, n] } else { values = try container.decode([Int].self) }
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}

/// MONAI's `norm_name`: "instance", "batch", or ["instance", {"affine": true}].
public enum NormKind: Codable, Sendable, Equatable {
    case instance(affine: Bool)
    case batch

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let name = try? container.decode(String.self) {
            self = try NormKind.named(name, affine: false, decoder: decoder)
            return
        }
        var list = try decoder.unkeyedContainer()
        let name = try list.decode(String.self)
        let options = try list.decodeIfPresent([String: Bool].self) ?? [:]
        self = try NormKind.named(name, affine: options["affine"] ?? false, decoder: decoder)
    }

    private static func named(_ name: String, affine: Bool, decoder: any Decoder) throws -> NormKind {
        switch name.lowercased() {
        case "instance", "instancenorm": return .instance(affine: affine)
        case "batch", "batchnorm": return .batch
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unsupported norm '\(name)' (use instance or batch)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .instance(false): try container.encode("instance")
        case .instance(true):
            var list = encoder.unkeyedContainer()
            try list.encode("instance")
            try list.encode(["affine": true])
        case .batch: try container.encode("batch")
        }
    }
}
