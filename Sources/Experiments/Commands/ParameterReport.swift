import Backbones
import ConfigDecoding
import Foundation
import PEFTMethods
import Tensors

/// Total, used and trainable parameters of a backbone adapted by a method (`harness params`).
public struct ParameterReport: Codable, Sendable {
    public let backbone: String
    public let method: String
    /// Backbone plus the method's parameters, every registered one.
    public let totalParameters: Int
    /// The backbone's registered parameters (MONAI's count).
    public let backboneParameters: Int
    /// The backbone parameters its forward pass reads (the papers' count; MONAI ≥ 1.4's UNETR
    /// registers `norm_cross_attn` layers it never calls).
    public let usedParameters: Int
    public let trainableParameters: Int
    /// The trainable parameters the forward pass reads.
    public let trainableUsedParameters: Int
    /// Trainable used parameters as a percentage of the backbone's used parameters.
    public let trainablePercent: Double
    public let adaptedModules: Int
    /// Parameters in the optimizer that never receive a gradient (documented dead parts).
    public let deadParameters: [String]

    enum CodingKeys: String, CodingKey {
        case backbone, method, totalParameters = "total_parameters", backboneParameters = "backbone_parameters"
        case usedParameters = "used_parameters", trainableParameters = "trainable_parameters"
        case trainableUsedParameters = "trainable_used_parameters", trainablePercent = "trainable_percent"
        case adaptedModules = "adapted_modules", deadParameters = "dead_parameters"
    }

    /// Builds the backbone (random weights: counts do not depend on values) and applies the method.
    public static func make(backbone config: BackboneConfig, method: any PEFTMethod, seed: UInt64 = 0) throws -> ParameterReport {
        let model = try makeBackbone(config, seed: seed)
        var rng = RandomGenerator(seed: seed, stream: "method")
        let adaptation = try method.apply(to: model, rng: &rng)
        let counts = try adaptation.parameterCounts()
        return ParameterReport(
            backbone: config.kind, method: method.name, totalParameters: counts.total, backboneParameters: counts.backbone,
            usedParameters: counts.used, trainableParameters: counts.trainable, trainableUsedParameters: counts.trainableUsed,
            trainablePercent: counts.trainablePercent, adaptedModules: adaptation.adapted.count,
            deadParameters: adaptation.deadParameters)
    }

    public var text: String {
        let dead = deadParameters.isEmpty ? "" : "\n  dead (never updated): \(deadParameters.count) tensors"
        return """
        \(backbone) + \(method)
          backbone parameters:  \(backboneParameters.formatted(.number)) (MONAI's count), \(usedParameters.formatted(.number)) used by the forward pass
          trainable parameters: \(trainableParameters.formatted(.number)) (\(String(format: "%.3f", trainablePercent)) % of the used backbone)
          adapted modules:      \(adaptedModules)\(dead)
        """
    }
}

/// Decodes a method by name with an optional JSON configuration (`--method-config '{"rank": 2}'`).
public func makeMethod(named name: String, configurationJSON: String?) throws -> any PEFTMethod {
    do {
        return try MethodRegistry.method(named: name, configurationJSON: configurationJSON)
    } catch let error as DecodingError {
        throw PEFTError.invalidConfiguration(method: name, message: describeDecodingError(error))
    }
}
