import Backbones
import PEFTMethods
import Tensors
import XCTest

/// METHODS.md's invariants for every registered method on both backbones.
final class InvariantTests: XCTestCase {
    /// Each method with its defaults, plus the released variants. `wideBottlenecks` widens HyPS's
    /// d = 2 ReLU bottleneck: with the few, similar tokens of a tiny model both of its units can be
    /// negative on every token (then nothing reaches Up or Down, as the method defines), which would
    /// hide what the gradient-flow test checks.
    private func variants(_ name: String, wideBottlenecks: Bool = false) -> [(label: String, method: any PEFTMethod)] {
        switch name {
        case HyPS.name:
            var paper = HyPS.Config(), released = HyPS.Config()
            released.variant = .released
            if wideBottlenecks { paper.adapterWidth = 16 }
            return [("hyps", HyPS(config: paper)), ("hyps/released", HyPS(config: released))]
        case LoRAPT.name:
            var released = LoRAPT.Config(); released.variant = .released
            return [("lora_pt", LoRAPT()), ("lora_pt/released", LoRAPT(config: released))]
        default:
            return [(name, try! MethodRegistry.method(named: name))]
        }
    }

    func testAdaptedModelEqualsPretrainedAtInitialisation() throws {
        for backbone in TinyBackbone.allCases {
            let x = backbone.input()
            for name in MethodRegistry.names {
                for (label, method) in variants(name) {
                    let model = try backbone.make()
                    model.eval()
                    let before = withoutGrad { model(x) }
                    var rng = RandomGenerator(seed: 5)
                    _ = try method.apply(to: model, rng: &rng)
                    let after = withoutGrad { model(x) }
                    let difference = maxRelativeDifference(after, before)
                    if !method.startsAsIdentity {
                        // HyPS released never loads the pre-trained encoder: a different function.
                        XCTAssertGreaterThan(difference, 1e-3, "\(backbone) \(label)")
                    } else {
                        XCTAssertLessThan(difference, 1e-5, "\(backbone) \(label): output moved by \(difference)")
                    }
                }
            }
        }
    }

    func testOnlyDeclaredParametersChangeAndAllOfThemLearn() throws {
        for backbone in TinyBackbone.allCases {
            let (image, label) = backbone.task()
            for name in MethodRegistry.names {
                for (variantLabel, method) in variants(name, wideBottlenecks: true) {
                    let model = try backbone.make()
                    var rng = RandomGenerator(seed: 5)
                    let adaptation = try method.apply(to: model, rng: &rng)
                    let declared = Set(adaptation.trainableParameters.map(\.0))
                    let before = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.values) })
                    let optimizer = Adam(adaptation.trainableParameters, learningRate: 1e-3)
                    var receivedGradient = Set<String>()
                    for _ in 0..<2 {
                        optimizer.zeroGrad()
                        softmaxDiceLoss(logits: model(image), labels: label).backward()
                        for (pname, p) in adaptation.trainableParameters where p.grad.map({ Kernels.maxAbs($0.pointer, count: $0.count) > 0 }) ?? false {
                            receivedGradient.insert(pname)
                        }
                        optimizer.step()
                    }
                    for (pname, p) in model.namedParameters() {
                        let changed = p.value.values != before[pname]!
                        if !declared.contains(pname) {
                            XCTAssertFalse(changed, "\(backbone) \(variantLabel): undeclared \(pname) changed")
                        }
                    }
                    let dead = Set(adaptation.deadParameters)
                    // UNETR's norm_cross_attn layers are never used by the forward pass (MONAI keeps them).
                    let expected = declared.subtracting(dead).filter { !$0.contains("norm_cross_attn") }
                    let silent = expected.subtracting(receivedGradient)
                    XCTAssert(silent.isEmpty, "\(backbone) \(variantLabel): no gradient for \(silent.sorted().prefix(5))")
                    for deadName in dead {
                        XCTAssertFalse(receivedGradient.contains(deadName), "\(backbone) \(variantLabel): \(deadName) should be dead")
                    }
                }
            }
        }
    }

    func testMergedModelComputesTheSameFunction() throws {
        for backbone in TinyBackbone.allCases {
            let x = backbone.input()
            for name in MethodRegistry.names {
                let model = try backbone.make()
                var rng = RandomGenerator(seed: 5)
                let method = try MethodRegistry.method(named: name)
                let adaptation = try method.apply(to: model, rng: &rng)
                guard adaptation.hasMergeableParts else { continue }
                // Move away from the initialisation so the merge has something to fold.
                let (image, label) = backbone.task()
                let optimizer = Adam(adaptation.trainableParameters, learningRate: 1e-2)
                for _ in 0..<2 {
                    optimizer.zeroGrad()
                    softmaxDiceLoss(logits: model(image), labels: label).backward()
                    optimizer.step()
                }
                model.eval()
                let unmerged = withoutGrad { model(x) }
                adaptation.merge()
                let merged = withoutGrad { model(x) }
                XCTAssertLessThan(maxRelativeDifference(merged, unmerged), 1e-5, "\(backbone) \(name)")
                if adaptation.isFullyMergeable {
                    XCTAssertFalse(model.namedModules().contains { ($0.1 as? Linear)?.adapter != nil },
                                   "\(backbone) \(name): adapters left after a full merge")
                }
            }
        }
    }

    func testEveryMethodLowersTheLossOfATinyTask() throws {
        for backbone in TinyBackbone.allCases {
            let (image, label) = backbone.task()
            for name in MethodRegistry.names {
                let model = try backbone.make()
                var rng = RandomGenerator(seed: 5)
                let adaptation = try MethodRegistry.method(named: name).apply(to: model, rng: &rng)
                let optimizer = Adam(adaptation.trainableParameters, learningRate: 3e-3)
                var losses: [Float] = []
                for _ in 0..<6 {
                    optimizer.zeroGrad()
                    let loss = softmaxDiceLoss(logits: model(image), labels: label)
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.scalar)
                }
                XCTAssertLessThan(losses.last!, losses.first!, "\(backbone) \(name): \(losses)")
            }
        }
    }
}
