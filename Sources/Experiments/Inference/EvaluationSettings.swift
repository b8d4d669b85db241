import Backbones

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

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case overlap, weighting, flipTTA = "flip_tta", checkpoint, minimumComponent = "min_component"
        case keepLargest = "keep_largest", savePredictions = "save_predictions", nsdTolerance = "nsd_tolerance"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        overlap = try read(.overlap, overlap)
        weighting = try read(.weighting, weighting)
        flipTTA = try read(.flipTTA, flipTTA)
        checkpoint = try read(.checkpoint, checkpoint)
        minimumComponent = try read(.minimumComponent, minimumComponent)
        keepLargest = try read(.keepLargest, keepLargest)
        savePredictions = try read(.savePredictions, savePredictions)
        nsdTolerance = try read(.nsdTolerance, nsdTolerance)
        try read.require((0..<1).contains(overlap), .overlap, "overlap must be in [0, 1)")
        try read.require((minimumComponent ?? 1) > 0, .minimumComponent, "min_component must be positive")
        try read.require((keepLargest ?? 1) > 0, .keepLargest, "keep_largest must be positive")
        try read.require(nsdTolerance > 0, .nsdTolerance, "nsd_tolerance must be positive")
    }
}
