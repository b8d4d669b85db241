import Backbones
import ConfigDecoding
import Tensors

/// What stays trainable besides a method's own parameters (METHODS.md): the papers' decoder
/// (UNETR decoder2..5 + out, SwinUNETR decoder1..5 + out), only the 1×1×1 output block, or nothing.
public enum HeadOption: String, Codable, Sendable, CaseIterable {
    case decoder, out, none
}

/// `paper`: the method as the paper describes it. `released`: what the authors' released scripts do.
public enum Variant: String, Codable, Sendable, CaseIterable {
    case paper, released
}

/// A parameter-efficient fine-tuning method: a Codable configuration plus `apply`, which opens an
/// `Adaptation` (counting and freezing the backbone except the head), finds its targets by MONAI
/// module names and attaches its wrappers with `Adaptation.attach`. One file per method; register it
/// in `MethodRegistry.all`.
public protocol PEFTMethod: Sendable {
    associatedtype Config: MethodConfig
    /// The name used in specs and on the command line.
    static var name: String { get }
    static var summary: String { get }
    var config: Config { get }
    init(config: Config)
    /// Decodes the configuration from a spec mapping; the one decoding path of specs, `harness params`
    /// and `predict`. The default decodes `Config`; a method overrides it to refuse options it ignores.
    static func make(from decoder: any Decoder) throws -> any PEFTMethod
    func apply(to model: any Backbone, rng: inout RandomGenerator) throws -> Adaptation
    /// True (the default) when the adapted model computes the pre-trained function until it trains;
    /// the shared tests hold every method that says so to it.
    var startsAsIdentity: Bool { get }
}

/// A method configuration: every field has a default, so `{}` (or no mapping at all) is valid.
public protocol MethodConfig: Codable, Sendable, Equatable {
    init()
}

/// The configuration of a method without options; any key is rejected.
public struct NoOptions: MethodConfig {
    public init() {}
    private enum CodingKeys: String, CodingKey, CaseIterable { case none }
    public init(from decoder: any Decoder) throws { _ = try OptionsReader<CodingKeys>(decoder) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: CodingKeys.self) }
}

extension PEFTMethod {
    public init() { self.init(config: Config()) }

    /// Decodes the configuration (unknown keys are rejected by the config).
    public static func make(from decoder: any Decoder) throws -> any PEFTMethod {
        Self(config: try Config(from: decoder))
    }

    public var name: String { Self.name }
    public var startsAsIdentity: Bool { true }
}

public enum PEFTError: Error, CustomStringConvertible {
    case noMatchingModules(method: String, pattern: String, nearby: [String])
    case unsupportedModule(method: String, name: String, type: String)
    case unknownMethod(String, known: [String])
    case invalidConfiguration(method: String, message: String)

    public var description: String {
        switch self {
        case .noMatchingModules(let method, let pattern, let nearby):
            return "\(method): no module matches targets \(pattern); modules look like: \(nearby.joined(separator: ", "))"
        case .unsupportedModule(let method, let name, let type):
            return "\(method): target '\(name)' is a \(type), which this method cannot adapt; narrow the targets (e.g. 'attn.proj')"
        case .unknownMethod(let name, let known):
            let hint = closestMatch(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            return "unknown method '\(name)'\(hint); known: \(known.joined(separator: ", "))"
        case .invalidConfiguration(let method, let message):
            return "\(method): \(message)"
        }
    }
}
