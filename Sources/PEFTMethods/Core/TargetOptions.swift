import Backbones
import ConfigDecoding
import Tensors

/// The options every method that wraps matched modules shares (LoRA, DoRA, PiSSA, LoTR, the
/// bottleneck methods, HyPS, SSF): which encoder modules it adapts (`targets`, minus `exclude`) and
/// what trains beside it (`head`). The three keys stay flat in the method's mapping, so specs and the
/// cell keys they produce read as before.
public protocol TargetedConfig: MethodConfig {
    var targets: TargetPattern { get set }
    var exclude: TargetPattern? { get set }
    var head: HeadOption { get set }
}

/// Coding keys of a `TargetedConfig`: their `targets`, `exclude` and `head` cases let one call read
/// the three shared options.
protocol TargetOptionKeys: CodingKey, CaseIterable, RawRepresentable where RawValue == String {
    static var targets: Self { get }
    static var exclude: Self { get }
    static var head: Self { get }
}

extension OptionsReader where Key: TargetOptionKeys {
    /// Reads `targets`, `exclude` and `head` into `config`, keeping its defaults for absent keys.
    func readTargetOptions<Config: TargetedConfig>(into config: inout Config) throws {
        config.targets = try self(.targets, config.targets)
        config.exclude = try self(.exclude, config.exclude)
        config.head = try self(.head, config.head)
    }
}

/// The encoder modules of the kinds a method adapts that `targets` selects and `exclude` does not, in
/// the model's order. A list names modules (PEFT's `target_modules`): every module it matches must be
/// of one of `kinds`, otherwise the error names it. A regular expression selects among the modules of
/// those kinds (SSF's and HyPS's default `.*` is "every one of them"). Nothing selected is an error too:
/// a method never skips a target silently.
func findTargets(_ targets: TargetPattern, exclude: TargetPattern?, in model: any Backbone,
                 adapting kinds: [Module.Type], method: String) throws -> [(String, Module)] {
    let encoder = model.encoderModuleName + "."
    let candidates = model.namedModules().filter { name, _ in name.hasPrefix(encoder) && !(exclude?.matches(name) ?? false) }
    func isAdaptable(_ module: Module) -> Bool { kinds.contains { ObjectIdentifier($0) == ObjectIdentifier(type(of: module)) } }
    var found: [(String, Module)] = []
    for (name, module) in candidates where targets.matches(name) {
        if isAdaptable(module) {
            found.append((name, module))
        } else if case .names = targets {
            throw PEFTError.unsupportedModule(method: method, name: name, type: "\(type(of: module))")
        }
    }
    if found.isEmpty {
        let nearby = candidates.map(\.0).filter { $0.components(separatedBy: ".").count <= 6 }.prefix(8)
        throw PEFTError.noMatchingModules(method: method, pattern: targets.description, nearby: Array(nearby))
    }
    return found
}

/// `findTargets` for a method that adapts one kind of module.
func findTargets<T: Module>(_ targets: TargetPattern, exclude: TargetPattern?, in model: any Backbone,
                            as kind: T.Type, method: String) throws -> [(String, T)] {
    try findTargets(targets, exclude: exclude, in: model, adapting: [kind], method: method)
        .compactMap { name, module in (module as? T).map { (name, $0) } }
}

extension Adaptation {
    /// The opening of every method that wraps matched modules: finds the targets first (a bad pattern
    /// throws before anything changes), then counts the backbone and freezes it except `config.head`.
    static func opening<T: Module>(_ method: String, on model: any Backbone, config: some TargetedConfig,
                                   as kind: T.Type) throws -> (Adaptation, [(String, T)]) {
        let targets = try findTargets(config.targets, exclude: config.exclude, in: model, as: kind, method: method)
        return (Adaptation(method: method, model: model, head: config.head), targets)
    }

    /// `opening` for a method that adapts several kinds of module (SSF: Linear and LayerNorm).
    static func opening(_ method: String, on model: any Backbone, config: some TargetedConfig,
                        adapting kinds: [Module.Type]) throws -> (Adaptation, [(String, Module)]) {
        let targets = try findTargets(config.targets, exclude: config.exclude, in: model, adapting: kinds, method: method)
        return (Adaptation(method: method, model: model, head: config.head), targets)
    }
}
