import Foundation
import Tensors

/// How a cell's test predictions combine the kept checkpoints: the mean, over the ensemble's terms, of
/// each checkpoint's tiled class probabilities, soft-maxed a second time with `softmax: twice` (the
/// authors' predict.py). With `stale_weights` it reproduces the released script's slip: from the
/// second test case on, the last term ("epoch 999") uses the first kept checkpoint's weights
/// ("epoch 996"). The sweep's evaluation and any other prediction go through `predict`.
public struct CheckpointEnsemble: Sendable, Equatable {
    public var softmaxTwice: Bool
    public var staleWeights: Bool

    public init(softmaxTwice: Bool = false, staleWeights: Bool = false) {
        (self.softmaxTwice, self.staleWeights) = (softmaxTwice, staleWeights)
    }

    public init(_ settings: EvaluationSettings) {
        self.init(softmaxTwice: settings.softmax == .twice, staleWeights: settings.staleWeights == true)
    }

    /// The checkpoint (index into the kept ones, oldest first) behind each term of test case `n`.
    public func members(case n: Int, checkpoints count: Int) -> [Int] {
        var members = Array(0..<count)
        if staleWeights, n > 0, count > 1 { members[count - 1] = 0 }
        return members
    }

    /// One checkpoint's term: its tiled probabilities [1, C, …], soft-maxed again over the classes
    /// when the networks end in a softmax.
    public func term(_ probabilities: Tensor) -> Tensor {
        softmaxTwice ? softmax(probabilities, axis: 1) : probabilities
    }

    /// The mean probabilities of `cases` test cases. Checkpoints are loaded one at a time (`load`; nil
    /// = the weights in place) and every case is predicted under each (`predict(n)`: the tiled
    /// probabilities of case n), each case only under the checkpoints its terms use.
    public func predict(cases: Int, checkpoints: [URL?], load: (URL) throws -> Void,
                        predict: (Int) throws -> Tensor) throws -> [Tensor] {
        let checkpoints = checkpoints.isEmpty ? [nil] : checkpoints
        var sums: [Tensor?] = Array(repeating: nil, count: cases)
        for (k, checkpoint) in checkpoints.enumerated() {
            if let checkpoint { try load(checkpoint) }
            for n in 0..<cases {
                let uses = members(case: n, checkpoints: checkpoints.count).filter { $0 == k }.count
                guard uses > 0 else { continue }
                let weighted = term(try predict(n)) * Float(uses)
                sums[n] = sums[n].map { $0 + weighted } ?? weighted
            }
        }
        return sums.map { $0! * (1 / Float(checkpoints.count)) }
    }
}
