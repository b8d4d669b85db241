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

/// Modules of type `T` whose names match, under the encoder only. Throws when nothing matches, or when
/// a match has another type (a method never skips a target silently).
func findTargets<T: Module>(_ pattern: TargetPattern, exclude: TargetPattern?, in model: any Backbone,
                            as type: T.Type, method: String, encoderOnly: Bool = true) throws -> [(String, T)] {
    let encoder = model.encoderModuleName + "."
    let candidates = model.namedModules().filter { name, _ in
        !name.isEmpty && (!encoderOnly || name.hasPrefix(encoder)) && !(exclude?.matches(name) ?? false)
    }
    var found: [(String, T)] = []
    for (name, module) in candidates where pattern.matches(name) {
        guard let typed = module as? T else {
            throw PEFTError.unsupportedModule(method: method, name: name, type: "\(Swift.type(of: module))")
        }
        found.append((name, typed))
    }
    if found.isEmpty {
        let nearby = candidates.map(\.0).filter { $0.components(separatedBy: ".").count <= 6 }.prefix(8)
        throw PEFTError.noMatchingModules(method: method, pattern: pattern.description, nearby: Array(nearby))
    }
    return found
}

/// Freezes the whole model, then unfreezes what `head` leaves trainable (the order of PEFT's
/// `_mark_only_adapters_as_trainable`): call before attaching adapters, whose parameters train.
func freezeAll(_ model: any Backbone, keepingTrainable head: HeadOption) {
    model.freeze()
    let modules = Dictionary(model.namedModules(), uniquingKeysWith: { a, _ in a })
    let names: [String] = switch head {
    case .decoder: model.decoderModuleNames
    case .out: [model.outModuleName]
    case .none: []
    }
    for name in names { modules[name]?.unfreeze() }
}
