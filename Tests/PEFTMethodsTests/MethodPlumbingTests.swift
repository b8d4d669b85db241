import Backbones
import PEFTMethods
import Tensors
import XCTest

/// The shared plumbing every registered method goes through: freezing that cannot freeze a method's
/// own parameters, target matching that never skips a module silently, and one decoding path.
final class MethodPlumbingTests: XCTestCase {
    /// Each registered method with its defaults, plus the released variants.
    private func methods() throws -> [(label: String, method: any PEFTMethod)] {
        try MethodRegistry.names.map { ($0, try MethodRegistry.method(named: $0)) } + [
            ("hyps/released", try makeMethod("hyps", ["variant": "released"])),
            ("lora_pt/released", try makeMethod("lora_pt", ["variant": "released"])),
        ]
    }

    /// Every parameter a method adds trains, and freezing the backbone again after attaching (the
    /// order a new method may well use) leaves it trainable and the backbone as the first freeze left it.
    func testAMethodsOwnParametersTrainWhateverTheFreezingOrder() throws {
        for backbone in TinyBackbone.allCases {
            for (label, method) in try methods() {
                let model = try backbone.make()
                let backboneNames = Set(model.namedParameters().map(\.0))
                var rng = RandomGenerator(seed: 5)
                let adaptation = try method.apply(to: model, rng: &rng)
                let own = model.namedParameters().filter { !backboneNames.contains($0.0) }
                XCTAssertEqual(own.filter { !$0.1.isTrainable }.map(\.0), [], "\(backbone) \(label): its own parameters are frozen")
                let trainable = Set(adaptation.trainableParameters.map(\.0))

                // A second freeze with the method's own head (none for the methods without targets).
                let head = (method.config as? any TargetedConfig)?.head ?? .none
                adaptation.freezeBackbone(keepingTrainable: head)
                XCTAssertEqual(own.filter { !$0.1.isTrainable }.map(\.0), [], "\(backbone) \(label): frozen by a second freeze")
                let refrozen = Set(adaptation.trainableParameters.map(\.0))
                XCTAssertEqual(refrozen.subtracting(trainable).sorted(), [], "\(backbone) \(label): a second freeze unfroze")
                XCTAssertTrue(own.allSatisfy { refrozen.contains($0.0) }, "\(backbone) \(label)")
            }
        }
    }

    /// Every wrapper is recorded for `harness params` with the parameters it adds, and what a method
    /// records adds up to what it trains beyond the backbone.
    func testEveryAttachedWrapperIsRecordedWithItsParameters() throws {
        for (label, method) in try methods() {
            let model = try TinyBackbone.unetr.make()
            let backboneNames = Set(model.namedParameters().map(\.0))
            var rng = RandomGenerator(seed: 5)
            let adaptation = try method.apply(to: model, rng: &rng)
            let added = model.namedParameters().filter { !backboneNames.contains($0.0) }.reduce(0) { $0 + $1.1.value.count }
            XCTAssertEqual(adaptation.adapted.reduce(0) { $0 + $1.trainableParameters }, added, label)
            let wrapped = Set(model.namedModules().compactMap { name, module -> String? in
                let hasAdapter = (module as? Linear)?.adapter != nil || (module as? LayerNorm)?.adapter != nil
                    || (module as? any AdaptableBlock)?.adapter != nil
                return hasAdapter ? name : nil
            })
            XCTAssertEqual(wrapped.subtracting(adaptation.adapted.map(\.name)).sorted(), [], "\(label): wrapped but not recorded")
        }
    }

    /// A listed target of a type the method cannot adapt is an error naming it, for every method that
    /// takes targets — HyPS and SSF included, which once skipped such modules silently.
    func testAListedTargetOfAnotherTypeIsAnErrorNamingIt() throws {
        for name in MethodRegistry.names {
            guard let method = try? makeMethod(name, ["targets": ["qkv", "norm1"]]) else { continue }
            var rng = RandomGenerator(seed: 1)
            if name == SSF.name {   // SSF adapts LayerNorms too
                XCTAssertNoThrow(try method.apply(to: try TinyBackbone.unetr.make(), rng: &rng), name)
                continue
            }
            XCTAssertThrowsError(try method.apply(to: try TinyBackbone.unetr.make(), rng: &rng), name) { error in
                XCTAssert("\(error)".contains("vit.blocks.0.norm1") && "\(error)".contains("LayerNorm"), "\(name): \(error)")
            }
        }
        let ssf = try makeMethod("ssf", ["targets": ["qkv", "patch_embeddings"]])
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try ssf.apply(to: try TinyBackbone.unetr.make(), rng: &rng)) { error in
            XCTAssert("\(error)".contains("patch_embeddings") && "\(error)".contains("Conv3d"), "\(error)")
        }
    }

    /// DoRA rebuilds its weight from B·A with no dropout on the input: a dropout is refused, not ignored.
    func testDoRARefusesTheDropoutItWouldIgnore() throws {
        XCTAssertThrowsError(try makeMethod("dora", ["dropout": 0.1])) { error in
            XCTAssert("\(error)".contains("dora has no dropout") && "\(error)".contains("dropout"), "\(error)")
        }
        XCTAssertNoThrow(try makeMethod("dora", ["rank": 4]))
        XCTAssertNoThrow(try makeMethod("lora", ["dropout": 0.1]))
        var config = DoRA.Config()
        config.dropout = 0.1
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try DoRA(config: config).apply(to: try TinyBackbone.unetr.make(), rng: &rng))
    }
}
