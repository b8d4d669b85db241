import Backbones
import Tensors

/// A Linear wrapper whose update is linear in x, so `merge()` can fold it into the layer's weight for
/// inference. A wrapper without this conformance (a bottleneck, a scale after the layer) is never
/// folded: merging leaves it attached, so the merged model still computes the same function.
protocol FoldableLinearAdapter: LinearAdapter {
    /// False when this wrapper has nothing linear to fold (a stack of bottlenecks only).
    var canFold: Bool { get }
    /// The weight that replaces `base` when the update folds.
    func foldedWeight(base: Tensor) -> Tensor
    /// The non-linear part that stays attached after folding (HyPS's bottleneck); nil when the layer
    /// becomes a plain Linear again.
    var remainderAfterFolding: (any LinearAdapter)? { get }
}

extension FoldableLinearAdapter {
    var canFold: Bool { true }
    var remainderAfterFolding: (any LinearAdapter)? { nil }
}

extension Adaptation {
    /// Attaches `wrapper` to the matched `module` (a Linear, a LayerNorm or a transformer sub-block),
    /// records it for `harness params` — the parameters the wrapper adds, plus `sharedParameters` it is
    /// the first to use (LoTR's factors) — and registers what `merge()` does with it. A wrapper that
    /// does not fit the module is an error naming the module. The wrapper's own parameters are not the
    /// backbone's, so `freezeBackbone` never freezes them, before or after this call.
    func attach(_ wrapper: any LayerAdapter, to module: Module, named name: String, sharedParameters: Int = 0) throws {
        switch (module, wrapper) {
        case (let layer as Linear, let adapter as any LinearAdapter): layer.adapter = adapter
        case (let norm as LayerNorm, let adapter as any NormAdapter): norm.adapter = adapter
        case (let block as any AdaptableBlock, let adapter as any BlockAdapter): block.adapter = adapter
        default: throw PEFTError.unsupportedModule(method: method, name: name, type: "\(type(of: module))")
        }
        let own = wrapper.parameters.map(\.1) + wrapper.children.flatMap { $0.1.namedParameters().map(\.1) }
        adapted.append(AdaptedModule(name: name, type: "\(type(of: module))",
                                     trainableParameters: own.reduce(0) { $0 + $1.value.count } + sharedParameters))
        registerFold(of: wrapper, on: module)
    }

    /// Parameters several wrappers share (LoTR's factors) become a top-level module of the model,
    /// `name.*`, which `merge()` removes once everything has folded.
    func attachShared(_ module: Module, named name: String) {
        model.attachments.append((name, module))
        addMerger { [weak model = self.model] in model?.attachments.removeAll { $0.0 == name } }
    }

    private func registerFold(of wrapper: any LayerAdapter, on module: Module) {
        guard let layer = module as? Linear, let foldable = wrapper as? any FoldableLinearAdapter, foldable.canFold else {
            addUnmergeablePart()
            return
        }
        if foldable.remainderAfterFolding != nil { addUnmergeablePart() }
        addMerger { [weak layer] in
            guard let layer, layer.adapter === foldable else { return }
            layer.weight.assign(foldable.foldedWeight(base: layer.weight.value))
            layer.adapter = foldable.remainderAfterFolding
        }
    }
}
