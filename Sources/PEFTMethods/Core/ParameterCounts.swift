import Backbones
import Tensors

/// An adapted model's parameters counted two ways: as MONAI counts them today (every registered
/// parameter) and as the papers count them (only what the forward pass reads: their MONAI 1.3 UNETR
/// had no `norm_cross_attn`, so 93,011,170 parameters where MONAI 1.6 registers 93,029,602).
/// "% trainable" is the trainable parameters the forward reads over the backbone's used parameters.
public struct ParameterCounts: Codable, Sendable, Equatable {
    /// Backbone plus the method's parameters, every registered one.
    public let total: Int
    /// The backbone before adaptation, every registered parameter (MONAI's count).
    public let backbone: Int
    /// The backbone parameters its forward pass reads (the papers' count).
    public let used: Int
    /// Parameters in the optimizer (MONAI's `requires_grad` count).
    public let trainable: Int
    /// Trainable parameters the forward pass reads (the numerator of `trainablePercent`).
    public let trainableUsed: Int

    public var trainablePercent: Double { 100 * Double(trainableUsed) / Double(max(used, 1)) }
}

extension Adaptation {
    /// Both counts; the used ones from `ParameterUse` (a probe of the same network), where a method's
    /// parameter attached to a module the forward never calls (SSF on `norm_cross_attn`) is unused too.
    public func parameterCounts() throws -> ParameterCounts {
        let use = try ParameterUse.of(model.config)
        guard use.names == Set(backboneParameterSizes.map(\.name)) else {
            throw PEFTError.invalidConfiguration(method: method, message: "the parameter-use probe of \(model.config.kind) "
                + "does not have the network's parameter names; cannot count the used parameters")
        }
        func owner(_ name: String) -> String { name.split(separator: ".").dropLast().joined(separator: ".") }
        let usedOwners = Set(backboneParameterSizes.map(\.name).filter { !use.unused.contains($0) }.map(owner))
        let unusedModules = Set(use.unused.map(owner)).subtracting(usedOwners)
        func isUsed(_ name: String) -> Bool {
            !use.unused.contains(name) && !unusedModules.contains { name.hasPrefix($0 + ".") }
        }
        let trainable = trainableParameters
        return ParameterCounts(
            total: model.parameterCount, backbone: backboneParameterCount,
            used: backboneParameterSizes.filter { isUsed($0.name) }.reduce(0) { $0 + $1.count },
            trainable: trainable.reduce(0) { $0 + $1.1.value.count },
            trainableUsed: trainable.filter { isUsed($0.0) }.reduce(0) { $0 + $1.1.value.count })
    }
}
