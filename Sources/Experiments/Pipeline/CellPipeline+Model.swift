import Backbones
import Foundation
import PEFTMethods
import Tensors

extension CellPipeline {
    /// The pipeline's first stages: the backbone initialised from `seed`, its starting weights, then the
    /// method, applied with the seed's `method` stream. The adaptation holds the model
    /// (`adaptation.model`) and what trains.
    public func makeModel() throws -> Adaptation {
        let model = try makeBackbone(backbone, seed: seed)
        if let startingWeights { try Self.loadStartingWeights(startingWeights, into: model) }
        var rng = RandomGenerator(seed: seed, stream: "method")
        return try method.apply(to: model, rng: &rng)
    }

    /// Loads starting weights; an output block of another class count (a source task with other
    /// labels, or the one-channel reconstruction of a self-supervised source) is left at its
    /// initialisation, since the head trains anyway. Returns the names of the checkpoint's tensors so
    /// skipped; every other tensor must load.
    @discardableResult
    static func loadStartingWeights(_ url: URL, into model: any Backbone) throws -> [String] {
        let shapes = Dictionary(model.stateDict().map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        var tensors = try ModelWeightsFile.read(contentsOf: url)
        let outPrefix = model.outModuleName + "."
        let otherHead = tensors.filter { name, tensor in
            name.hasPrefix(outPrefix) && shapes[name].map { $0 != tensor.shape } == true
        }
        for name in otherHead.keys { tensors[name] = nil }
        let outKeys = otherHead.isEmpty ? [] : Set(shapes.keys.filter { $0.hasPrefix(outPrefix) })
        try model.load(checkpoint: tensors, file: url.lastPathComponent, alsoOptional: outKeys)
        return otherHead.keys.sorted()
    }
}
