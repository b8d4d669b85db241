import Backbones
import Tensors

/// One adapted module: its MONAI name, type and the trainable parameters the method added there.
public struct AdaptedModule: Codable, Sendable, Equatable {
    public let name: String
    public let type: String
    public let trainableParameters: Int
}

/// The result of `PEFTMethod.apply`: what was wrapped, what trains, and how to merge back.
public final class Adaptation {
    public let method: String
    public let model: any Backbone
    /// Parameters of the backbone before adaptation, as MONAI counts them (`model.parameters()`).
    public let backboneParameterCount: Int
    /// The backbone's parameters before adaptation, by name, with their sizes (see `parameterCounts`).
    let backboneParameterSizes: [(name: String, count: Int)]
    public internal(set) var adapted: [AdaptedModule] = []
    /// Parameters that are in the optimizer but provably never change (the released HyPS adapter).
    public internal(set) var deadParameters: [String] = []
    private var mergers: [() -> Void] = []
    /// Adapters that `merge()` cannot fold (non-linear branches such as bottlenecks).
    public private(set) var unmergeableParts = 0
    public private(set) var isMerged = false

    /// The backbone's own parameters, the only ones `freezeBackbone` and `trainBackboneParameters`
    /// touch: a method's parameters are never frozen by them, whatever the order of the calls.
    private let backboneParameters: [(name: String, parameter: Parameter)]

    /// Counts the backbone, then freezes it except what `head` leaves trainable (the order of PEFT's
    /// `_mark_only_adapters_as_trainable`). Every method starts here, so none can forget to freeze.
    init(method: String, model: any Backbone, head: HeadOption) {
        self.method = method
        self.model = model
        backboneParameterCount = model.parameterCount
        backboneParameters = model.namedParameters().map { (name: $0.0, parameter: $0.1) }
        backboneParameterSizes = backboneParameters.map { ($0.name, $0.parameter.value.count) }
        freezeBackbone(keepingTrainable: head)
    }

    /// Freezes the backbone's parameters except those under the modules `head` names. Safe before or
    /// after attaching wrappers: their parameters are not the backbone's.
    package func freezeBackbone(keepingTrainable head: HeadOption) {
        let kept: [String] = switch head {
        case .decoder: model.decoderModuleNames
        case .out: [model.outModuleName]
        case .none: []
        }
        for (name, parameter) in backboneParameters {
            parameter.isTrainable = kept.contains { name.hasPrefix($0 + ".") }
        }
    }

    /// Makes the backbone's parameters whose names satisfy `trains` trainable too (BitFit's biases,
    /// full fine-tuning's everything).
    func trainBackboneParameters(where trains: (String) -> Bool) {
        for (name, parameter) in backboneParameters where trains(name) { parameter.isTrainable = true }
    }

    public var trainableParameters: [(String, Parameter)] { model.trainableParameters() }
    public var trainableParameterCount: Int { model.trainableParameterCount }

    /// True when `merge()` leaves a plain backbone (no adapter remains).
    public var isFullyMergeable: Bool { unmergeableParts == 0 }
    /// True when `merge()` folds something (e.g. HyPS's principal part while its bottleneck stays).
    public var hasMergeableParts: Bool { !mergers.isEmpty }

    func addMerger(_ merge: @escaping () -> Void) { mergers.append(merge) }
    func addUnmergeablePart() { unmergeableParts += 1 }

    /// Folds every linear adapter part into the base weights (for inference); the adapted model computes
    /// the same function before and after. Non-linear parts stay attached.
    public func merge() {
        guard !isMerged else { return }
        withoutGrad { mergers.forEach { $0() } }
        isMerged = true
    }
}
