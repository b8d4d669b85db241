import Experiments
import Foundation
import Tensors  // RandomGenerator only: the project's one documented seeded generator

/// Clinical groups in the style of ADNI (ADNIMERGE's `DX_bl`: CN, EMCI, LMCI, AD).
public enum ClinicalGroup: String, CaseIterable, Codable, Sendable {
    case CN, EMCI, LMCI, AD
}

public enum Sex: String, CaseIterable, Codable, Sendable {
    case female = "F", male = "M"
}

/// One subject: demographics, MMSE, intracranial volume and left/right hippocampal volumes (mm³).
public struct Subject: Sendable, Equatable, Codable {
    public var id: String
    public var diagnosis: ClinicalGroup
    public var age: Double
    public var sex: Sex
    public var educationYears: Int
    public var mmse: Int
    public var intracranialVolume: Double
    public var leftHippocampus: Double
    public var rightHippocampus: Double

    public init(id: String, diagnosis: ClinicalGroup, age: Double, sex: Sex, educationYears: Int, mmse: Int,
                intracranialVolume: Double, leftHippocampus: Double, rightHippocampus: Double) {
        self.id = id
        self.diagnosis = diagnosis
        self.age = age
        self.sex = sex
        self.educationYears = educationYears
        self.mmse = mmse
        self.intracranialVolume = intracranialVolume
        self.leftHippocampus = leftHippocampus
        self.rightHippocampus = rightHippocampus
    }
}

/// A column a classifier can use.
public enum DiagnosisFeature: String, CaseIterable, Codable, Sendable {
    case leftHippocampus = "left_hippocampus"
    case rightHippocampus = "right_hippocampus"
    case totalHippocampus = "total_hippocampus"
    /// Hippocampal volume as a fraction of intracranial volume, in per mille.
    case leftHippocampusPerICV = "left_hippocampus_per_icv"
    case rightHippocampusPerICV = "right_hippocampus_per_icv"
    case totalHippocampusPerICV = "total_hippocampus_per_icv"
    case intracranialVolume = "icv"
    case age
    case female
    case education
    case mmse

    public func value(for subject: Subject) -> Double {
        switch self {
        case .leftHippocampus: subject.leftHippocampus
        case .rightHippocampus: subject.rightHippocampus
        case .totalHippocampus: subject.leftHippocampus + subject.rightHippocampus
        case .leftHippocampusPerICV: 1000 * subject.leftHippocampus / subject.intracranialVolume
        case .rightHippocampusPerICV: 1000 * subject.rightHippocampus / subject.intracranialVolume
        case .totalHippocampusPerICV: 1000 * (subject.leftHippocampus + subject.rightHippocampus) / subject.intracranialVolume
        case .intracranialVolume: subject.intracranialVolume
        case .age: subject.age
        case .female: subject.sex == .female ? 1 : 0
        case .education: Double(subject.educationYears)
        case .mmse: Double(subject.mmse)
        }
    }

    /// Hippocampal volume with demographics: what segmentation quality feeds into.
    public static let volumesAndDemographics: [DiagnosisFeature] =
        [.leftHippocampus, .rightHippocampus, .intracranialVolume, .age, .female, .education]
    /// The same plus MMSE (the clinical score that largely defines the groups).
    public static let volumesDemographicsAndMMSE: [DiagnosisFeature] = volumesAndDemographics + [.mmse]

    /// Whether the feature is a hippocampal volume (what a segmentation changes).
    public var isVolume: Bool {
        switch self {
        case .leftHippocampus, .rightHippocampus, .totalHippocampus, .leftHippocampusPerICV, .rightHippocampusPerICV,
             .totalHippocampusPerICV: true
        default: false
        }
    }

    /// The per-ICV variant of a volume feature (per mille of intracranial volume); other features unchanged.
    public var normalisedByICV: DiagnosisFeature {
        switch self {
        case .leftHippocampus: .leftHippocampusPerICV
        case .rightHippocampus: .rightHippocampusPerICV
        case .totalHippocampus: .totalHippocampusPerICV
        default: self
        }
    }

    /// Whether the feature reads the intracranial volume.
    public var needsICV: Bool {
        switch self {
        case .intracranialVolume, .leftHippocampusPerICV, .rightHippocampusPerICV, .totalHippocampusPerICV: true
        default: false
        }
    }

    /// Spec names: the raw values above, and the short spellings `left_volume`, `right_volume`,
    /// `total_volume`, `sex` (= female), `icv`.
    public init?(specName name: String) {
        switch name.lowercased() {
        case "left_volume": self = .leftHippocampus
        case "right_volume": self = .rightHippocampus
        case "total_volume": self = .totalHippocampus
        case "left_volume_per_icv": self = .leftHippocampusPerICV
        case "right_volume_per_icv": self = .rightHippocampusPerICV
        case "total_volume_per_icv": self = .totalHippocampusPerICV
        case "sex": self = .female
        default:
            guard let feature = DiagnosisFeature(rawValue: name.lowercased()) else { return nil }
            self = feature
        }
    }

    /// The short spec name (what tables print).
    public var specName: String {
        switch self {
        case .leftHippocampus: "left_volume"
        case .rightHippocampus: "right_volume"
        case .totalHippocampus: "total_volume"
        case .leftHippocampusPerICV: "left_volume_per_icv"
        case .rightHippocampusPerICV: "right_volume_per_icv"
        case .totalHippocampusPerICV: "total_volume_per_icv"
        case .female: "sex"
        default: rawValue
        }
    }

    public static let specNames = ["left_volume", "right_volume", "total_volume", "left_volume_per_icv", "right_volume_per_icv",
                                   "total_volume_per_icv", "icv", "age", "sex", "education", "mmse"]
}

/// A binary task: `negative` is label 0, `positive` label 1.
public struct DiagnosisTask: Sendable, Equatable, Codable, CustomStringConvertible {
    public var negative: ClinicalGroup
    public var positive: ClinicalGroup

    public init(negative: ClinicalGroup, positive: ClinicalGroup) {
        self.negative = negative
        self.positive = positive
    }

    public static let adVersusCN = DiagnosisTask(negative: .CN, positive: .AD)
    public static let lmciVersusEMCI = DiagnosisTask(negative: .EMCI, positive: .LMCI)

    public var description: String { "\(positive.rawValue) vs \(negative.rawValue)" }

    /// The subjects of the two groups, in input order, as a feature matrix and 0/1 labels.
    public func select(_ subjects: [Subject], features: [DiagnosisFeature])
        -> (features: [[Double]], labels: [Int], ids: [String]) {
        let chosen = subjects.filter { $0.diagnosis == negative || $0.diagnosis == positive }
        return (chosen.map { subject in features.map { $0.value(for: subject) } },
                chosen.map { $0.diagnosis == positive ? 1 : 0 },
                chosen.map(\.id))
    }
}

/// A seeded synthetic ADNI-like cohort: the default data of the diagnosis experiments when no real
/// ADNIMERGE table is given. Every number below is an approximation of published group statistics;
/// docs/DIAGNOSIS.md gives the sources and the reasoning, and what is a modelling assumption.
///
/// Hippocampal volume of subject i, side s (left or right):
///
///     V = V₀ₛ · [(1 − Δ_{group,s}) · (1 − r · (age − 75)) · (ICV / 1 480 000)^0.6 + εₛ]
///
/// - V₀: control volume at age 75 and average head size, left 3 550 mm³, right 3 650 mm³ (≈ 7 200 mm³
///   bilateral, the order of automated segmentations of elderly controls; right > left, the
///   left-less-than-right asymmetry found in all groups by Shi et al. 2009).
/// - Δ (loss relative to CN): AD 24.2 % left / 23.1 % right, LMCI 12.9 % / 11.1 % — Shi F, Liu B, Zhou Y,
///   Yu C, Jiang T. Hippocampal volume and asymmetry in mild cognitive impairment and Alzheimer's
///   disease: meta-analyses of MRI studies. Hippocampus 2009;19(11):1055–64 (their MCI figures, applied
///   to LMCI, whose criteria are ADNI-1's MCI criteria — the mapping is an assumption); EMCI 5 % / 4 %,
///   an assumption placing EMCI between CN and LMCI as ADNI-GO/2 analyses report (Beckett et al.,
///   Alzheimer's & Dementia 2015;11:823–31).
/// - r = 0.85 %/year: cross-sectional age effect, the mean annual hippocampal atrophy in healthy
///   ageing of Fraser, Shaw & Cherbuin, NeuroImage 2015;112:364–74 (longitudinal rates in elderly
///   controls are higher, ≈ 1.4–1.7 %/year: Barnes et al., Neurobiol Aging 2009;30:1711–23; Jack et al.,
///   Neurology 2000;55:484–9).
/// - ε: residual between-subject variation, SD 13 % of the control volume in every group (additive,
///   so patients' volumes vary as much in mm³ as controls'), left–right correlation 0.85 (assumption).
///   With the spread of age (≈ 5 %) and head size (≈ 6 %) this gives a raw within-group SD of ≈ 15 % of
///   the control mean, so the AD–CN difference is d ≈ 1.55, as in Shi et al.'s meta-analysis (1.52
///   right, 1.60 left).
/// - ICV ~ N(1 400 000, 110 000) mm³ for women, N(1 570 000, 120 000) for men; exponent 0.6
///   (less-than-proportional scaling with head size) is an assumption.
///
/// Demographics and MMSE per group (approximately ADNI's baseline tables, Petersen et al., Neurology
/// 2010;74:201–9; MMSE clipped to ADNI's entry ranges, 24–30 for CN/MCI and 20–26 for AD; age to 55–90):
///
///     group  age (SD)     female  education (SD)  MMSE (SD)
///     CN     75.5 (5.5)   0.49    16.2 (2.8)      29.1 (1.0)
///     EMCI   71.5 (7.4)   0.45    15.9 (2.7)      28.3 (1.6)
///     LMCI   73.8 (7.5)   0.41    15.8 (2.9)      27.0 (1.8)
///     AD     75.0 (7.8)   0.45    15.0 (3.0)      23.3 (2.0)
///
/// Draws come from `RandomGenerator(seed: seed, stream: "synthetic-cohort")`, subject by subject
/// (CN first, then EMCI, LMCI, AD), in a fixed order: sex, age, education, MMSE, ICV, ε_left, ε_right.
public struct SyntheticCohort: Sendable, Equatable, Codable {
    public struct Group: Sendable, Equatable, Codable {
        public var count: Int
        public var ageMean: Double
        public var ageSD: Double
        public var femaleFraction: Double
        public var educationMean: Double
        public var educationSD: Double
        public var mmseMean: Double
        public var mmseSD: Double
        public var mmseRange: ClosedRange<Int>
        /// Fractional hippocampal volume loss relative to CN at equal age and head size.
        public var leftLoss: Double
        public var rightLoss: Double

        public init(count: Int, ageMean: Double, ageSD: Double, femaleFraction: Double, educationMean: Double,
                    educationSD: Double, mmseMean: Double, mmseSD: Double, mmseRange: ClosedRange<Int>,
                    leftLoss: Double, rightLoss: Double) {
            self.count = count
            self.ageMean = ageMean
            self.ageSD = ageSD
            self.femaleFraction = femaleFraction
            self.educationMean = educationMean
            self.educationSD = educationSD
            self.mmseMean = mmseMean
            self.mmseSD = mmseSD
            self.mmseRange = mmseRange
            self.leftLoss = leftLoss
            self.rightLoss = rightLoss
        }
    }

    public var cn = Group(count: 200, ageMean: 75.5, ageSD: 5.5, femaleFraction: 0.49, educationMean: 16.2,
                          educationSD: 2.8, mmseMean: 29.1, mmseSD: 1.0, mmseRange: 24...30, leftLoss: 0, rightLoss: 0)
    public var emci = Group(count: 150, ageMean: 71.5, ageSD: 7.4, femaleFraction: 0.45, educationMean: 15.9,
                            educationSD: 2.7, mmseMean: 28.3, mmseSD: 1.6, mmseRange: 24...30, leftLoss: 0.05, rightLoss: 0.04)
    public var lmci = Group(count: 150, ageMean: 73.8, ageSD: 7.5, femaleFraction: 0.41, educationMean: 15.8,
                            educationSD: 2.9, mmseMean: 27.0, mmseSD: 1.8, mmseRange: 24...30, leftLoss: 0.129, rightLoss: 0.111)
    public var ad = Group(count: 150, ageMean: 75.0, ageSD: 7.8, femaleFraction: 0.45, educationMean: 15.0,
                          educationSD: 3.0, mmseMean: 23.3, mmseSD: 2.0, mmseRange: 20...26, leftLoss: 0.242, rightLoss: 0.231)

    public var controlLeftVolume = 3550.0
    public var controlRightVolume = 3650.0
    public var referenceAge = 75.0
    /// Fractional volume loss per year of age (cross-sectional).
    public var atrophyPerYear = 0.0085
    public var referenceICV = 1_480_000.0
    public var icvExponent = 0.6
    public var femaleICVMean = 1_400_000.0
    public var femaleICVSD = 110_000.0
    public var maleICVMean = 1_570_000.0
    public var maleICVSD = 120_000.0
    /// SD of ε, as a fraction of the control volume.
    public var residualSD = 0.13
    public var leftRightCorrelation = 0.85
    public var ageRange = 55.0...90.0
    public var educationRange = 6...20

    public init() {}

    /// The defaults above.
    public static let adniLike = SyntheticCohort()

    public subscript(group: ClinicalGroup) -> Group {
        get {
            switch group {
            case .CN: cn
            case .EMCI: emci
            case .LMCI: lmci
            case .AD: ad
            }
        }
        set {
            switch group {
            case .CN: cn = newValue
            case .EMCI: emci = newValue
            case .LMCI: lmci = newValue
            case .AD: ad = newValue
            }
        }
    }

    /// The subjects, ids `SYN-0001`…, CN first, then EMCI, LMCI, AD. Same seed, same cohort.
    public func generate(seed: UInt64) -> [Subject] {
        var generator = RandomGenerator(seed: seed, stream: "synthetic-cohort")
        func uniform() -> Double { Double(generator.next() >> 11) * 0x1p-53 }
        func normal() -> Double { Double(generator.normal()) }
        func clamp<T: Comparable>(_ value: T, _ range: ClosedRange<T>) -> T { min(max(value, range.lowerBound), range.upperBound) }

        var subjects: [Subject] = []
        for diagnosis in ClinicalGroup.allCases {
            let group = self[diagnosis]
            for _ in 0..<max(group.count, 0) {
                let sex: Sex = uniform() < group.femaleFraction ? .female : .male
                let age = clamp(group.ageMean + group.ageSD * normal(), ageRange)
                let education = clamp(Int((group.educationMean + group.educationSD * normal()).rounded()), educationRange)
                let mmse = clamp(Int((group.mmseMean + group.mmseSD * normal()).rounded()), group.mmseRange)
                let icv = sex == .female ? femaleICVMean + femaleICVSD * normal() : maleICVMean + maleICVSD * normal()
                let z1 = normal(), z2 = normal()
                let leftNoise = residualSD * z1
                let rightNoise = residualSD * (leftRightCorrelation * z1
                    + (1 - leftRightCorrelation * leftRightCorrelation).squareRoot() * z2)
                let common = (1 - atrophyPerYear * (age - referenceAge)) * pow(max(icv, 1) / referenceICV, icvExponent)
                let left = controlLeftVolume * ((1 - group.leftLoss) * common + leftNoise)
                let right = controlRightVolume * ((1 - group.rightLoss) * common + rightNoise)
                subjects.append(Subject(
                    id: String(format: "SYN-%04d", subjects.count + 1), diagnosis: diagnosis,
                    age: (age * 10).rounded() / 10, sex: sex, educationYears: education, mmse: mmse,
                    intracranialVolume: icv.rounded(),
                    leftHippocampus: max(left, 500).rounded(), rightHippocampus: max(right, 500).rounded()))
            }
        }
        return subjects
    }
}
