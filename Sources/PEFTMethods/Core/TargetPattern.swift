import Backbones
import Tensors

/// Hugging Face PEFT's target rules: a list entry matches a module name exactly or as a suffix after
/// a "."; a single string is a regular expression that must match the whole name.
public enum TargetPattern: Codable, Sendable, Equatable, CustomStringConvertible {
    case names([String])
    case regex(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let pattern = try? container.decode(String.self) {
            guard (try? Regex(pattern)) != nil else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid regular expression '\(pattern)'")
            }
            self = .regex(pattern)
        } else {
            self = .names(try container.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .names(let names): try container.encode(names)
        case .regex(let pattern): try container.encode(pattern)
        }
    }

    public func matches(_ name: String) -> Bool {
        switch self {
        case .names(let names):
            return names.contains { name == $0 || name.hasSuffix("." + $0) }
        case .regex(let pattern):
            guard let regex = try? Regex(pattern) else { return false }
            return (try? regex.wholeMatch(in: name)) != nil
        }
    }

    public var description: String {
        switch self {
        case .names(let names): "[\(names.joined(separator: ", "))]"
        case .regex(let pattern): "/\(pattern)/"
        }
    }
}

/// The transformer's projections in both backbones: UNETR's qkv/out_proj/linear1/linear2 and
/// SwinUNETR's qkv/attn.proj/linear1/linear2 ("proj" alone would also hit SwinUNETR's patch embedding).
public let defaultLinearTargets = TargetPattern.names(["qkv", "out_proj", "attn.proj", "linear1", "linear2"])
