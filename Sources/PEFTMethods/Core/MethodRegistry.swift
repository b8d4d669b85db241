import Foundation

/// Every method by name. Adding a method: one file in Methods/, one line here, one test.
public enum MethodRegistry {
    public static let all: [any PEFTMethod.Type] = [
        FullFineTuning.self, LinearProbe.self, DecoderOnly.self, BitFit.self,
        LoRA.self, HoulsbyAdapter.self, AdaptFormer.self, SSF.self, PiSSA.self, DoRA.self, LoTR.self,
        ParallelAdapter.self, SequentialAdapter.self, CPSAdapter.self, HyPS.self, LoRAPT.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func type(named name: String) throws -> any PEFTMethod.Type {
        guard let type = all.first(where: { $0.name == name }) else {
            throw PEFTError.unknownMethod(name, known: names)
        }
        return type
    }

    /// The method with its default configuration.
    public static func method(named name: String) throws -> any PEFTMethod {
        let type = try type(named: name)
        return type.init()
    }

    /// The method with its options given as a JSON object (`harness params --method-config`), decoded
    /// by the same `make(from:)` as a spec's mapping; nil options mean the defaults.
    public static func method(named name: String, configurationJSON json: String?) throws -> any PEFTMethod {
        let type = try type(named: name)
        guard let json else { return type.init() }
        return try type.decode(fromJSON: Data(json.utf8))
    }
}

extension PEFTMethod {
    fileprivate static func decode(fromJSON data: Data) throws -> any PEFTMethod {
        try JSONDecoder().decode(Decoded<Self>.self, from: data).method
    }
}

/// Hands the JSON decoder to `M.make(from:)`; the method type is a generic parameter, not a value
/// looked up (and force-cast) from `userInfo`.
private struct Decoded<M: PEFTMethod>: Decodable {
    let method: any PEFTMethod
    init(from decoder: any Decoder) throws { method = try M.make(from: decoder) }
}
