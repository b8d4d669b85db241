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

    init(method: String, model: any Backbone) {
        self.method = method
        self.model = model
        backboneParameterCount = model.parameterCount
        backboneParameterSizes = model.namedParameters().map { ($0.0, $0.1.value.count) }
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
