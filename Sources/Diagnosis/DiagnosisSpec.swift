import Backbones
import ConfigDecoding
import Experiments
import Foundation

/// A diagnosis study (`harness diagnose SPEC`): a cohort, how its hippocampal volumes are measured, the
/// features, tasks, classifiers and cross-validation, and optionally the cells of a finished sweep whose
/// models segment the cohort. Every field is documented in docs/DIAGNOSIS.md; all are optional.
///
/// ```yaml
/// name: diagnosis
/// cohort: {synthetic: {subjects: 200, seed: 2024, style: harp}}
/// features: [left_volume, right_volume, icv, age, sex, education]
/// icv_normalisation: false
/// tasks: [AD vs CN, LMCI vs EMCI]
/// classifiers: [logistic, svm]
/// cross_validation: {folds: 5, repeats: 5, seed: 11}
/// segmentation: {spec: experiments/quickstart.yaml, results: runs/quickstart, budget: 12}
/// ```
public struct DiagnosisSpec: Decodable, Sendable {
    public var name = "diagnosis"
    public var description: String?
    public var cohort = CohortSpec.synthetic(SyntheticCohortSpec())
    public var volumes = VolumetrySpec()
    /// Named feature sets, each cross-validated separately.
    public var featureSets: [FeatureSet] = [FeatureSet(name: "volumes+demographics", features: DiagnosisFeature.volumesAndDemographics)]
    /// Replace every volume feature by its per-ICV variant (per mille of intracranial volume).
    public var icvNormalisation = false
    public var tasks: [DiagnosisTask] = [.adVersusCN, .lmciVersusEMCI]
    public var classifiers: [LinearClassifier] = [.logisticRegression(c: 1), .linearSVM(c: 1)]
    public var crossValidation = StratifiedKFold(folds: 5, repeats: 5, seed: 11)
    public var segmentation: SegmentationSourceSpec?
    /// The segmenting sweep's spec, loaded by `DiagnosisSpecLoader` (not part of the YAML).
    public var sweep: ExperimentSpec?

    /// The feature sets as the classifiers see them (ICV normalisation applied).
    public var effectiveFeatureSets: [FeatureSet] {
        featureSets.map { set in
            FeatureSet(name: set.name, features: icvNormalisation ? set.features.map(\.normalisedByICV) : set.features)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, cohort, volumes, features, icvNormalisation = "icv_normalisation", tasks, classifiers
        case crossValidation = "cross_validation", segmentation
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.name, \.name), (.description, \.description), (.cohort, \.cohort),
                              (.volumes, \.volumes))
        if read.contains(.features) { featureSets = (try read.required(.features) as FeatureSets).sets }
        icvNormalisation = try read(.icvNormalisation, icvNormalisation)
        if read.contains(.tasks) { tasks = (try read.required(.tasks) as [TaskName]).map(\.task) }
        if read.contains(.classifiers) { classifiers = (try read.required(.classifiers) as [ClassifierName]).map(\.classifier) }
        if read.contains(.crossValidation) { crossValidation = (try read.required(.crossValidation) as CrossValidationSpec).kFold }
        segmentation = try read(.segmentation, nil as SegmentationSourceSpec?)
        try read.require(SafeName.isValid(name), .name, "name '\(name)' names the results folder: use \(SafeName.rule)")
        try read.require(!featureSets.isEmpty && featureSets.allSatisfy { !$0.features.isEmpty }, .features,
                         "list at least one feature")
        try read.require(!tasks.isEmpty, .tasks, "list at least one task")
        try read.require(!classifiers.isEmpty, .classifiers, "list at least one classifier")
        try read.require(Set(tasks.map(\.description)).count == tasks.count, .tasks, "a task is listed twice")
        try read.require(Set(featureSets.map(\.name)).count == featureSets.count, .features, "two feature sets share a name")
    }
}

/// Where the subjects come from.
public enum CohortSpec: Decodable, Sendable {
    /// The built-in ADNI-like cohort, each subject rendered as a synthetic image whose hippocampi have
    /// the subject's volumes.
    case synthetic(SyntheticCohortSpec)
    /// An ADNIMERGE-style CSV with reference masks (and images, to segment them).
    case metadata(MetadataCohortSpec)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case synthetic, metadata, columns, diagnosisMap = "diagnosis_map", visit, missing, masks, images, volumes
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        if read.contains(.metadata) {
            try read.require(!read.contains(.synthetic), .synthetic, "give either `synthetic:` or `metadata:`, not both")
            self = .metadata(try MetadataCohortSpec(from: decoder))
        } else {
            for key in [CodingKeys.columns, .diagnosisMap, .visit, .missing, .masks, .images, .volumes] {
                try read.require(!read.contains(key), key, "`\(key.rawValue)` belongs to a `metadata:` cohort")
            }
            self = .synthetic(try read(.synthetic, SyntheticCohortSpec()))
        }
    }
}

/// `cohort: {synthetic: {subjects, seed, style, groups}}`.
public struct SyntheticCohortSpec: Codable, Sendable, Equatable {
    /// Number of subjects, shared among CN, EMCI, LMCI and AD in the proportions of
    /// `SyntheticCohort.adniLike` (200 : 150 : 150 : 150). Default 650.
    public var subjects: Int?
    /// Or the count of each group, e.g. `{CN: 60, AD: 60}` (groups not named get 0).
    public var groups: [ClinicalGroup: Int]?
    /// Seed of the cohort (demographics, volumes) and of the images' anatomy. Default 2024.
    public var seed: UInt64 = 2024
    /// Image style; default: the segmenting sweep's synthetic hippocampus style, else harp.
    public var style: HippocampusStyle?

    public init(subjects: Int? = nil, groups: [ClinicalGroup: Int]? = nil, seed: UInt64 = 2024, style: HippocampusStyle? = nil) {
        self.subjects = subjects
        self.groups = groups
        self.seed = seed
        self.style = style
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case subjects, groups, seed, style }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.subjects, \.subjects), (.seed, \.seed), (.style, \.style))
        if read.contains(.groups) {
            let named: [String: Int] = try read.required(.groups)
            var groups: [ClinicalGroup: Int] = [:]
            for (key, count) in named {
                guard let group = ClinicalGroup(rawValue: key.uppercased()) else {
                    try read.require(false, .groups, "unknown group '\(key)'; use CN, EMCI, LMCI, AD")
                    continue
                }
                try read.require(count >= 0, .groups, "group \(key) needs a count of at least 0")
                groups[group] = count
            }
            self.groups = groups
        }
        try read.require(subjects == nil || groups == nil, .groups, "give `subjects` or `groups`, not both")
        try read.require((subjects ?? 1) >= 1 && (subjects ?? 1) <= 100_000, .subjects, "subjects must be 1 to 100000")
    }

    /// The cohort model with the group counts this spec asks for.
    public var cohort: SyntheticCohort {
        var cohort = SyntheticCohort.adniLike
        if let groups {
            for group in ClinicalGroup.allCases { cohort[group].count = groups[group] ?? 0 }
        } else if let subjects {
            cohort = cohort.scaled(to: subjects)
        }
        return cohort
    }
}

extension SyntheticCohort {
    /// The same cohort with `total` subjects shared among the groups in the current proportions (largest
    /// remainders, ties to the earlier group).
    public func scaled(to total: Int) -> SyntheticCohort {
        let counts = ClinicalGroup.allCases.map { self[$0].count }
        let sum = counts.reduce(0, +)
        guard sum > 0 else { return self }
        let exact = counts.map { Double($0) * Double(total) / Double(sum) }
        var rounded = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(rounded[$0]), -$0) > (exact[$1] - Double(rounded[$1]), -$1) }
        for i in order.prefix(total - rounded.reduce(0, +)) { rounded[i] += 1 }
        var copy = self
        for (group, count) in zip(ClinicalGroup.allCases, rounded) { copy[group].count = count }
        return copy
    }
}

/// `cohort: {metadata: ADNIMERGE.csv, columns: {…}, diagnosis_map: {…}, visit: bl, missing: error,
/// masks: "masks/{id}.nii.gz", images: "images/{id}.nii.gz"}`.
public struct MetadataCohortSpec: Decodable, Sendable {
    public var metadata: String
    /// Header names of the columns, e.g. `{id: PTID, diagnosis: DX_bl}` (default: ADNIMERGE's names).
    public var columns: [CohortColumn: String] = [:]
    /// Extra diagnosis spellings → CN, EMCI, LMCI, AD or `exclude`.
    public var diagnosisMap: [String: ClinicalGroup?] = [:]
    /// Visit kept (default `bl`); `all` keeps every row.
    public var visit: String? = "bl"
    /// `error` (default) or `skip` rows with an empty value in a column the features need.
    public var skipIncomplete = false
    /// Path template of each subject's reference mask, `{id}` the subject id. Without it, the reference
    /// volumes are the table's `left_volume`/`right_volume` columns.
    public var masks: String?
    /// Path template of each subject's image (what a sweep's models segment).
    public var images: String?
    /// A table of the subjects' volumes joined on id instead of masks: `harness predict`'s volumes.csv
    /// (or any CSV with `id`, `left_volume` and `right_volume` columns).
    public var volumes: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case synthetic, metadata, columns, diagnosisMap = "diagnosis_map", visit, missing, masks, images, volumes
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        metadata = try read.required(.metadata)
        let named: [String: String] = try read(.columns, [:])
        for (key, header) in named {
            guard let column = CohortColumn(rawValue: key) else {
                let hint = closestMatch(to: key, in: CohortColumn.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
                try read.require(false, .columns, "unknown column '\(key)'\(hint); known: \(CohortColumn.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            columns[column] = header
        }
        let map: [String: String] = try read(.diagnosisMap, [:])
        for (spelling, target) in map {
            if target.lowercased() == "exclude" {
                diagnosisMap[spelling] = .some(nil)
            } else if let group = ClinicalGroup(rawValue: target.uppercased()) {
                diagnosisMap[spelling] = group
            } else {
                try read.require(false, .diagnosisMap, "'\(spelling)' maps to '\(target)'; use CN, EMCI, LMCI, AD or exclude")
            }
        }
        let visit: String = try read(.visit, "bl")
        self.visit = visit.lowercased() == "all" ? nil : visit
        let missing: String = try read(.missing, "error")
        try read.require(["error", "skip"].contains(missing), .missing, "missing is `error` or `skip`, not '\(missing)'")
        skipIncomplete = missing == "skip"
        masks = try read(.masks, nil as String?)
        images = try read(.images, nil as String?)
        volumes = try read(.volumes, nil as String?)
        try read.require(volumes == nil || masks == nil, .volumes, "give `masks:` or `volumes:`, not both")
        for (key, template) in [(CodingKeys.masks, masks), (.images, images)] {
            if let template { try read.require(template.contains("{id}"), key, "the path template must contain {id}") }
        }
    }
}

/// `volumes: {sides: hemisphere|components|labels, midline: centre|centroid|<mm>, connectivity: 6|26,
/// labels: {left: 1, right: 2}}`.
public struct VolumetrySpec: Decodable, Sendable, Equatable {
    public var split = HemisphereSplit.default

    enum CodingKeys: String, CodingKey, CaseIterable { case sides, midline, connectivity, labels }
    enum Sides: String, NamedChoice { case hemisphere, components, labels }

    public init(split: HemisphereSplit = .default) { self.split = split }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        let sides = try read(.sides, Sides.hemisphere)
        try read.require(sides == .hemisphere || !read.contains(.midline), .midline, "midline applies to `sides: hemisphere`")
        try read.require(sides == .components || !read.contains(.connectivity), .connectivity, "connectivity applies to `sides: components`")
        try read.require(sides == .labels || !read.contains(.labels), .labels, "labels applies to `sides: labels`")
        switch sides {
        case .hemisphere:
            var midline = Midline.fieldOfViewCentre
            if read.contains(.midline) {
                if let x = try? read.required(.midline) as Double {
                    midline = .x(x)
                } else {
                    let text: String = try read.required(.midline)
                    switch text.lowercased() {
                    case "centre", "center": midline = .fieldOfViewCentre
                    case "centroid": midline = .foregroundCentroid
                    default: try read.require(false, .midline, "midline is `centre`, `centroid` or a world x in mm, not '\(text)'")
                    }
                }
            }
            split = .worldMidline(midline)
        case .components:
            split = .largestComponents(connectivity: try read(.connectivity, ComponentConnectivity.six))
        case .labels:
            let labels: [String: Int] = try read(.labels, ["left": 1, "right": 2])
            try read.require(Set(labels.keys) == ["left", "right"], .labels, "labels is {left: N, right: M}")
            split = .labels(left: labels["left"]!, right: labels["right"]!)
        }
    }
}

/// A named list of features.
public struct FeatureSet: Sendable, Equatable, Codable {
    public var name: String
    public var features: [DiagnosisFeature]

    public init(name: String, features: [DiagnosisFeature]) {
        self.name = name
        self.features = features
    }

    /// The name of a set given as a plain list: `volumes+demographics` (the default set),
    /// `volumes+demographics+mmse`, else the feature names joined by `+`.
    public static func defaultName(for features: [DiagnosisFeature]) -> String {
        if features == DiagnosisFeature.volumesAndDemographics { return "volumes+demographics" }
        if features == DiagnosisFeature.volumesDemographicsAndMMSE { return "volumes+demographics+mmse" }
        return features.map(\.specName).joined(separator: "+")
    }
}

/// `features: [left_volume, …]` (one set, named by `FeatureSet.defaultName`) or `{name: [..], other: [..]}` (in file order).
struct FeatureSets: Decodable {
    var sets: [FeatureSet]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var features: [DiagnosisFeature] = []
            while !list.isAtEnd { features.append(try list.decode(FeatureName.self).feature) }
            sets = [FeatureSet(name: FeatureSet.defaultName(for: features), features: features)]
        } else {
            let mapping = try decoder.container(keyedBy: Key.self)
            sets = try mapping.allKeys.map { key in
                FeatureSet(name: key.stringValue, features: try mapping.decode([FeatureName].self, forKey: key).map(\.feature))
            }
        }
    }
}

struct FeatureName: Decodable {
    var feature: DiagnosisFeature

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let feature = DiagnosisFeature(specName: text) else {
            let hint = closestMatch(to: text, in: DiagnosisFeature.specNames).map { " (did you mean '\($0)'?)" } ?? ""
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "unknown feature '\(text)'\(hint); use \(DiagnosisFeature.specNames.joined(separator: ", "))")
        }
        self.feature = feature
    }
}

/// `AD vs CN`, `AD_vs_CN`, `EMCI vs LMCI`, …, or `{positive: AD, negative: CN}`. In the text form the
/// more impaired group (CN < EMCI < LMCI < AD) is the positive class, whatever the order.
struct TaskName: Decodable {
    var task: DiagnosisTask

    enum CodingKeys: String, CodingKey, CaseIterable { case positive, negative }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            let container = try decoder.singleValueContainer()
            let parts = text.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
                .split(separator: " ").map { $0.uppercased() }.filter { $0 != "VS" && $0 != "VERSUS" }
            let groups = parts.compactMap { ClinicalGroup(rawValue: $0) }
            guard parts.count == 2, groups.count == 2, groups[0] != groups[1] else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription:
                    "a task is two groups, e.g. 'AD vs CN' or 'LMCI vs EMCI' (groups CN, EMCI, LMCI, AD), not '\(text)'")
            }
            let order = ClinicalGroup.allCases
            let (a, b) = (groups[0], groups[1])
            let aFirst = order.firstIndex(of: a)! > order.firstIndex(of: b)!
            task = DiagnosisTask(negative: aFirst ? b : a, positive: aFirst ? a : b)
        } else {
            let read = try OptionsReader<CodingKeys>(decoder)
            let positive: String = try read.required(.positive), negative: String = try read.required(.negative)
            let p = ClinicalGroup(rawValue: positive.uppercased()), n = ClinicalGroup(rawValue: negative.uppercased())
            try read.require(p != nil, .positive, "unknown group '\(positive)'; use CN, EMCI, LMCI, AD")
            try read.require(n != nil, .negative, "unknown group '\(negative)'; use CN, EMCI, LMCI, AD")
            try read.require(p != n, .negative, "the two groups of a task must differ")
            task = DiagnosisTask(negative: n!, positive: p!)
        }
    }
}

/// `logistic`, `svm` or `{name: logistic, c: 0.5}`.
struct ClassifierName: Decodable {
    var classifier: LinearClassifier

    enum CodingKeys: String, CodingKey, CaseIterable { case name, c }
    static let names = ["logistic", "svm"]

    init(from decoder: any Decoder) throws {
        var name: String
        var c = 1.0
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            name = text
        } else {
            let read = try OptionsReader<CodingKeys>(decoder)
            name = try read.required(.name)
            c = try read(.c, c)
            try read.require(c > 0 && c.isFinite, .c, "C must be a positive number")
        }
        switch name.lowercased() {
        case "logistic", "logistic_regression", "lr": classifier = .logisticRegression(c: c)
        case "svm", "linear_svm": classifier = .linearSVM(c: c)
        default:
            let container = try decoder.singleValueContainer()
            let hint = closestMatch(to: name, in: Self.names).map { " (did you mean '\($0)'?)" } ?? ""
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "unknown classifier '\(name)'\(hint); use logistic or svm (optionally {name: svm, c: 0.5})")
        }
    }
}

/// `cross_validation: {folds: 5, repeats: 5, seed: 11}`.
struct CrossValidationSpec: Decodable {
    var kFold: StratifiedKFold

    enum CodingKeys: String, CodingKey, CaseIterable { case folds, repeats, seed }

    init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        kFold = StratifiedKFold(folds: try read(.folds, 5), repeats: try read(.repeats, 5), seed: try read(.seed, 11))
        try read.require(kFold.folds >= 2 && kFold.folds <= 100, .folds, "folds must be 2 to 100")
        try read.require(kFold.repeats >= 1 && kFold.repeats <= 1000, .repeats, "repeats must be 1 to 1000")
    }
}

/// `segmentation: {spec: SWEEP.yaml, results: DIR, budget: 12, methods: [..], backbone: .., dataset: .., seeds: [..]}`:
/// the finished cells of a sweep whose models segment the cohort's images. Without `budget`, every budget
/// of the sweep; without `methods`, every method; and so on.
public struct SegmentationSourceSpec: Decodable, Sendable {
    public var spec: String
    /// The sweep's results folder (default `results/<its name>`).
    public var results: String?
    public var budgets: [Budget]?
    public var methods: [String]?
    public var backbones: [String]?
    public var datasets: [String]?
    public var seeds: [UInt64]?

    /// The sweep's results folder: `results`, else the default of every command (`ResultStore.defaultRoot`).
    func store(sweep: ExperimentSpec) -> ResultStore {
        ResultStore(root: results.map { URL(fileURLWithPath: $0) } ?? ResultStore.defaultRoot(specName: sweep.name))
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case spec, results, budget, budgets, methods, backbone, backbones, dataset, datasets, seed, seeds
    }

    public init(spec: String, results: String? = nil, budgets: [Budget]? = nil, methods: [String]? = nil) {
        self.spec = spec
        self.results = results
        self.budgets = budgets
        self.methods = methods
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        spec = try read.required(.spec)
        results = try read(.results, nil as String?)
        func oneOrMany<T: Decodable>(_ one: CodingKeys, _ many: CodingKeys) throws -> [T]? {
            try read.require(!(read.contains(one) && read.contains(many)), many, "give `\(one.rawValue)` or `\(many.rawValue)`, not both")
            if read.contains(one) { return [try read.required(one)] }
            return try read(many, nil as [T]?)
        }
        budgets = try oneOrMany(.budget, .budgets)
        methods = try read(.methods, nil as [String]?)
        backbones = try oneOrMany(.backbone, .backbones)
        datasets = try oneOrMany(.dataset, .datasets)
        seeds = try oneOrMany(.seed, .seeds)
        for (key, list) in [(CodingKeys.methods, methods?.count), (.budgets, budgets?.count), (.backbones, backbones?.count),
                            (.datasets, datasets?.count), (.seeds, seeds?.count)] {
            try read.require(list.map { $0 > 0 } ?? true, key, "list at least one, or leave the key out for all")
        }
    }
}

extension LinearClassifier {
    /// `logistic` / `svm`, with `C` when it is not 1.
    public var shortName: String {
        switch self {
        case .logisticRegression(let c): c == 1 ? "logistic" : "logistic (C=\(c))"
        case .linearSVM(let c): c == 1 ? "svm" : "svm (C=\(c))"
        }
    }
}
