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
}
