import Experiments
import Foundation
import Tensors
import Volumes

/// Synthetic images of a cohort: subject i of the cohort becomes a `SyntheticHippocampus` phantom whose
/// left and right hippocampi have volumes proportional to the subject's.
///
/// The phantom's anatomy (position, tilt, bend, curl, neighbours, tissue contrast, noise) is drawn by
/// `SyntheticHippocampus.subject(style:seed:index:)` with index i and a seed derived from the cohort
/// seed (`RandomGenerator(seed: cohortSeed, stream: "diagnosis-cohort-anatomy").next()`, so the phantoms
/// are not the sweep's training cases). Its own size variation is switched off — `scale` 1, length the
/// base length, no natural asymmetry — and the volume factors are set to `volume / referenceVolume`, so
/// the drawn hippocampal volume is `nominal × volume / referenceVolume` up to voxelisation. The phantoms
/// are small (about 700 mm³ per side at factor 1, where the cohort's control mean is 3 600 mm³): volumes
/// measured on them are proportional to the cohort's, on the phantom's scale.
public struct CohortPhantoms: Sendable, Equatable {
    public var style: HippocampusStyle
    public var anatomySeed: UInt64
    /// The cohort volume (mm³) drawn at volume factor 1; default 3 600 mm³, the mean of the synthetic
    /// cohort's control volumes (left 3 550, right 3 650).
    public var referenceVolume: Double

    public init(style: HippocampusStyle, cohortSeed: UInt64, referenceVolume: Double = 3600) {
        self.style = style
        var generator = RandomGenerator(seed: cohortSeed, stream: "diagnosis-cohort-anatomy")
        anatomySeed = generator.next()
        self.referenceVolume = referenceVolume
    }

    /// The phantom anatomy of cohort subject `index`.
    public func anatomy(for subject: Subject, index: Int) -> HippocampusSubject {
        var anatomy = SyntheticHippocampus.subject(style: style, seed: anatomySeed, index: index)
        anatomy.scale = 1
        anatomy.length = SyntheticHippocampus.baseLength
        anatomy.asymmetry = 0
        anatomy.leftVolumeFactor = max(subject.leftHippocampus, 0) / referenceVolume
        anatomy.rightVolumeFactor = max(subject.rightHippocampus, 0) / referenceVolume
        return anatomy
    }

    /// Image and label (1 = left hippocampus, 2 = right) of cohort subject `index`, with the subject's id.
    public func render(_ subject: Subject, index: Int) throws -> SyntheticCase {
        var rendered = try SyntheticHippocampus.render(anatomy(for: subject, index: index), style: style, id: subject.id,
                                                       splitSides: true)
        rendered.id = subject.id
        return rendered
    }
}
