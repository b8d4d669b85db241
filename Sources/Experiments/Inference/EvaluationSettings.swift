import Backbones
import ConfigDecoding

/// The `evaluation:` section of a spec: how test volumes are predicted and post-processed.
public struct EvaluationSettings: Codable, Sendable, Equatable {
    /// Which weights predict the test set.
    public enum CheckpointChoice: String, Codable, Sendable {
        /// The mean softmax of the last `training.keep_last` epochs' checkpoints (the papers' protocol).
        case ensemble
        case last
        /// The best validation Dice (needs validation cases and `validate_every`).
        case best
    }

    /// Fraction of each sliding window shared with its neighbour.
    public var overlap = 0.5
    public var weighting = SlidingWindow.Weighting.gaussian
    /// Average the 8 mirrored predictions (nnU-Net's test-time augmentation).
    public var flipTTA = false
    public var checkpoint = CheckpointChoice.ensemble
    /// Remove connected components (6-connectivity) smaller than this many voxels; the papers use 1000.
    public var minimumComponent: Int? = nil
    /// Keep only this many largest components per label.
    public var keepLargest: Int? = nil
    /// Write each test prediction as NIfTI in the image's original geometry.
    public var savePredictions = false
    /// Tolerance (mm) of the normalised surface Dice.
    public var nsdTolerance = 1.0
    /// Where the inference windows go; nil = sliding (MONAI's). The protocol options are optional so
    /// that specs without them keep their cell keys.
    public var tiling: SlidingWindow.Tiling?
    /// How often a softmax is applied to each checkpoint's output before the ensemble mean; nil = once.
    public var softmax: SoftmaxCount?
    /// The released predict.py's slip (off by default): from the second test case on, the ensemble's
    /// last term is computed with the first kept checkpoint's weights.
    public var staleWeights: Bool?

    /// How many softmaxes a checkpoint's output goes through.
    public enum SoftmaxCount: String, NamedChoice, Sendable {
        /// Probabilities of each window's logits (MONAI's).
        case once
        /// The authors' predict.py: their networks end in a softmax, and predict.py takes another
        /// softmax of the tiled output, so the ensemble averages softmax(softmax(logits)).
        case twice
    }

    /// The inference window of a patch size (k, j, i): the tiling, overlap and weighting of this section.
    public func window(roi: [Int]) -> SlidingWindow {
        SlidingWindow(roi: roi, overlap: overlap, weighting: weighting, tiling: tiling ?? .sliding)
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case overlap, weighting, flipTTA = "flip_tta", checkpoint, minimumComponent = "min_component"
        case keepLargest = "keep_largest", savePredictions = "save_predictions", nsdTolerance = "nsd_tolerance"
        case tiling, softmax, staleWeights = "stale_weights"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.overlap, \.overlap), (.weighting, \.weighting), (.flipTTA, \.flipTTA),
                              (.checkpoint, \.checkpoint), (.minimumComponent, \.minimumComponent),
                              (.keepLargest, \.keepLargest), (.savePredictions, \.savePredictions),
                              (.nsdTolerance, \.nsdTolerance), (.tiling, \.tiling), (.softmax, \.softmax),
                              (.staleWeights, \.staleWeights))
        try read.require((0..<1).contains(overlap), .overlap, "overlap must be in [0, 1)")
        try read.require((minimumComponent ?? 1) > 0, .minimumComponent, "min_component must be positive")
        try read.require((keepLargest ?? 1) > 0, .keepLargest, "keep_largest must be positive")
        try read.require(nsdTolerance > 0, .nsdTolerance, "nsd_tolerance must be positive")
    }
}
