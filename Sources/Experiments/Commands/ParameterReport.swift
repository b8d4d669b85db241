import Backbones
import Foundation
import PEFTMethods
import Tensors

/// Total and trainable parameters of a backbone adapted by a method (`harness params`).
public struct ParameterReport: Codable, Sendable {
    public let backbone: String
    public let method: String
    public let totalParameters: Int
    public let backboneParameters: Int
    public let trainableParameters: Int
    /// Trainable parameters as a percentage of the backbone's.
    public let trainablePercent: Double
    public let adaptedModules: Int
    /// Parameters in the optimizer that never receive a gradient (documented dead parts).
    public let deadParameters: [String]

    enum CodingKeys: String, CodingKey {
        case backbone, method, totalParameters = "total_parameters", backboneParameters = "backbone_parameters"
        case trainableParameters = "trainable_parameters", trainablePercent = "trainable_percent"
        case adaptedModules = "adapted_modules", deadParameters = "dead_parameters"
    }

    /// Builds the backbone (random weights: counts do not depend on values) and applies the method.
    public static func make(backbone config: BackboneConfig, method: any PEFTMethod, seed: UInt64 = 0) throws -> ParameterReport {
        let model = try makeBackbone(config, seed: seed)
        var rng = RandomGenerator(seed: seed, stream: "method")
        let adaptation = try method.apply(to: model, rng: &rng)
        return ParameterReport(
            backbone: config.kind, method: method.name, totalParameters: model.parameterCount,
            backboneParameters: adaptation.backboneParameterCount, trainableParameters: adaptation.trainableParameterCount,
            trainablePercent: 100 * adaptation.trainableFraction, adaptedModules: adaptation.adapted.count,
            deadParameters: adaptation.deadParameters)
    }

    public var text: String {
        let dead = deadParameters.isEmpty ? "" : "\n  dead (never updated): \(deadParameters.count) tensors"
        return """
        \(backbone) + \(method)
          backbone parameters:  \(backboneParameters.formatted(.number))
          trainable parameters: \(trainableParameters.formatted(.number)) (\(String(format: "%.3f", trainablePercent)) % of the backbone)
          adapted modules:      \(adaptedModules)\(dead)
        """
    }
}

/// Decodes a method by name with an optional JSON configuration (`--method-config '{"rank": 2}'`).
public func makeMethod(named name: String, configurationJSON: String?) throws -> any PEFTMethod {
    let type = try MethodRegistry.type(named: name)
    guard let json = configurationJSON else { return type.init() }
    struct Wrapper: Decodable {
        let method: any PEFTMethod
        init(from decoder: any Decoder) throws {
            let name = decoder.userInfo[CodingUserInfoKey(rawValue: "method")!] as! String
            method = try MethodRegistry.type(named: name).make(from: decoder)
        }
    }
    let decoder = JSONDecoder()
    decoder.userInfo[CodingUserInfoKey(rawValue: "method")!] = name
    do {
        return try decoder.decode(Wrapper.self, from: Data(json.utf8)).method
    } catch let error as DecodingError {
        throw PEFTError.invalidConfiguration(method: name, message: describeDecodingError(error))
    }
}
