import Dispatch
import Foundation
import Synchronization
import Tensors
import Volumes

/// What `harness data check SPEC` reports for one data set.
public struct DataCheckReport: Codable, Sendable, Equatable {
    /// Voxels and cases holding one label value.
    public struct LabelCount: Codable, Sendable, Equatable {
        public var value: Int
        public var voxels: Int
        public var cases: Int
    }

    /// Per-axis minimum and maximum (i, j, k).
    public struct AxisRange<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        public var min: [Value]
        public var max: [Value]
    }

    /// A case that could not be read or checked, and why.
    public struct CaseProblem: Codable, Sendable, Equatable {
        public var id: String
        public var message: String
    }

    /// Sizes of the splits (nil when the data set cannot be split; `splitError` says why).
    public struct SplitSizes: Codable, Sendable, Equatable {
        public var validation: Int
        public var test: Int
        public var trainingPool: Int
    }

    public var dataset: String
    public var layout: String
    public var root: String?
    /// Set when the data set could not be scanned at all (then everything else is empty).
    public var error: String?
    public var usableCases: Int
    public var caseIDs: [String]
    public var skipped: [SkippedFile]
    public var excluded: [String]
    public var warnings: [String]
    /// Cases found by the scan whose files fail to read or check (mismatched grids, NaN voxels, ...).
    public var problems: [CaseProblem]
    /// Grid sizes (i, j, k) as stored.
    public var shapes: AxisRange<Int>?
    /// Voxel sizes (mm, i, j, k) as stored.
    public var spacings: AxisRange<Double>?
    /// Axis codes (RAS, LPS, ...) → number of cases.
    public var orientations: [String: Int]
    /// On-disk image voxel types → number of cases.
    public var imageDatatypes: [String: Int]
    /// Source label values, before the label map.
    public var labelValues: [LabelCount]
    /// Classes after the label map (nil without one).
    public var classes: [LabelCount]?
    public var split: SplitSizes?
    public var splitError: String?

    /// The human-readable report.
    public var text: String {
        var lines = ["data set '\(dataset)' (layout \(layout)\(root.map { ", root \($0)" } ?? ""))"]
        if let error {
            lines.append("  error: \(error)")
            return lines.joined(separator: "\n")
        }
        lines.append("  usable cases: \(usableCases)")
        if !excluded.isEmpty { lines.append("  excluded: \(excluded.joined(separator: ", "))") }
        if !skipped.isEmpty {
            lines.append("  skipped: \(skipped.count)")
            for file in skipped { lines.append("    \(file.path): \(file.reason)") }
        }
        for warning in warnings { lines.append("  warning: \(warning)") }
        if !problems.isEmpty {
            lines.append("  problems: \(problems.count)")
            for problem in problems { lines.append("    \(problem.id): \(problem.message)") }
        }
        if let shapes { lines.append("  shapes (i, j, k): \(Self.join(shapes.min)) to \(Self.join(shapes.max))") }
        if let spacings {
            lines.append("  spacing (mm): \(Self.join(spacings.min.map(Self.format))) to \(Self.join(spacings.max.map(Self.format)))")
        }
        if !orientations.isEmpty { lines.append("  orientation: \(Self.counts(orientations))") }
        if !imageDatatypes.isEmpty { lines.append("  image datatypes: \(Self.counts(imageDatatypes))") }
        if !labelValues.isEmpty {
            lines.append("  label values: " + labelValues.map { "\($0.value) (\($0.voxels) voxels in \($0.cases) cases)" }.joined(separator: ", "))
        }
        if let classes {
            lines.append("  classes after label_map: " + classes.map { "\($0.value) (\($0.voxels) voxels)" }.joined(separator: ", "))
        }
        if let split {
            lines.append("  split: \(split.trainingPool) training pool, \(split.validation) validation, \(split.test) test")
        } else if let splitError {
            lines.append("  split: \(splitError)")
        }
        return lines.joined(separator: "\n")
    }

    private static func join<T>(_ values: [T]) -> String { values.map { "\($0)" }.joined(separator: " × ") }
    private static func format(_ value: Double) -> String { String(format: "%.3g", value) }
    private static func counts(_ table: [String: Int]) -> String {
        table.keys.sorted().map { "\($0) \(table[$0]!)" }.joined(separator: ", ")
    }
}

/// Reports for several data sets (one spec).
public struct DataCheckSummary: Codable, Sendable, Equatable {
    public var datasets: [DataCheckReport]

    public init(datasets: [DataCheckReport]) { self.datasets = datasets }

    public var text: String { datasets.map(\.text).joined(separator: "\n\n") }

    /// How many errors the report prints (a data set that does not scan, a case that does not read or
    /// whose labels do not fit, a split that cannot be made): `data check` exits non-zero when any.
    public var errorCount: Int {
        datasets.reduce(0) { $0 + ($1.error == nil ? 0 : 1) + $1.problems.count + ($1.splitError == nil ? 0 : 1) }
    }
}

/// `harness data check`: what each data set holds, what was skipped and why, and whether every case
/// reads and checks (every image and label is read once, in parallel).
public enum DataCheck {
    /// All data sets of a spec; a data set that cannot be scanned gets a report with `error` set.
    /// `requirements` (from `LabelRange.requirements`) add the check that every label fits out_channels.
    public static func run(_ specs: [DatasetSpec], requirements: [LabelRange.Requirement] = []) -> DataCheckSummary {
        DataCheckSummary(datasets: specs.map { spec in
            do {
                return try check(spec, requirement: requirements.first { $0.dataset.name == spec.name })
            } catch {
                return DataCheckReport(
                    dataset: spec.name, layout: spec.layout.rawValue, root: spec.root, error: "\(error)", usableCases: 0,
                    caseIDs: [], skipped: [], excluded: [], warnings: [], problems: [], orientations: [:],
                    imageDatatypes: [:], labelValues: [], classes: nil)
            }
        })
    }

    /// One data set. Throws `DataError` when it cannot be scanned (missing root, refused entry, ...);
    /// per-case read failures (and labels the requirement's out_channels cannot represent) are listed in
    /// `problems`, and those cases are not counted as usable.
    public static func check(_ spec: DatasetSpec, requirement: LabelRange.Requirement? = nil) throws -> DataCheckReport {
        let scan = try DatasetScanner.scan(spec)
        let facts = Mutex<[Int: Result<CaseFacts, any Error>]>([:])
        let next = Atomic<Int>(0)
        let cases = scan.cases
        DispatchQueue.concurrentPerform(iterations: min(Parallel.workers, max(cases.count, 1))) { _ in
            while true {
                let n = next.add(1, ordering: .relaxed).oldValue
                guard n < cases.count else { return }
                let result = Result { try CaseFacts(cases[n], dataset: spec.name, labelMap: spec.labelMap, requirement: requirement) }
                facts.withLock { $0[n] = result }
            }
        }
        var report = DataCheckReport(
            dataset: spec.name, layout: spec.layout.rawValue, root: spec.root, error: nil, usableCases: cases.count,
            caseIDs: scan.caseIDs, skipped: scan.skipped, excluded: scan.excluded, warnings: scan.warnings, problems: [],
            orientations: [:], imageDatatypes: [:], labelValues: [], classes: spec.labelMap == nil ? nil : [])
        var values: [Int: (voxels: Int, cases: Int)] = [:]
        var classes: [Int: (voxels: Int, cases: Int)] = [:]
        let all = facts.withLock { $0 }
        for n in cases.indices {
            switch all[n]! {
            case .failure(let error):
                report.problems.append(.init(id: cases[n].id, message: Self.message(error)))
            case .success(let fact):
                report.shapes = Self.extend(report.shapes, fact.shape)
                report.spacings = Self.extend(report.spacings, fact.spacing)
                report.orientations[fact.orientation, default: 0] += 1
                report.imageDatatypes[fact.datatype, default: 0] += 1
                for (value, count) in fact.labelCounts {
                    values[value, default: (0, 0)].voxels += count
                    values[value, default: (0, 0)].cases += 1
                }
                for (value, count) in fact.classCounts {
                    classes[value, default: (0, 0)].voxels += count
                    classes[value, default: (0, 0)].cases += 1
                }
            }
        }
        report.usableCases = cases.count - report.problems.count
        report.labelValues = values.keys.sorted().map { .init(value: $0, voxels: values[$0]!.voxels, cases: values[$0]!.cases) }
        if spec.labelMap != nil {
            report.classes = classes.keys.sorted().map { .init(value: $0, voxels: classes[$0]!.voxels, cases: classes[$0]!.cases) }
        }
        if scan.cases.isEmpty {
            report.splitError = "no usable case"
        } else {
            do {
                let splits = try DatasetSplits(scan: scan, split: spec.split)
                report.split = .init(validation: splits.validation.count, test: splits.test.count,
                                     trainingPool: splits.trainingPool.count)
            } catch {
                report.splitError = "\(error)"
            }
        }
        return report
    }

    private static func message(_ error: any Error) -> String {
        if case DataError.caseFailed(_, _, let reason) = error { return reason }
        return "\(error)"
    }

    private static func extend<T: Comparable>(_ range: DataCheckReport.AxisRange<T>?, _ values: [T]) -> DataCheckReport.AxisRange<T> {
        guard let range else { return .init(min: values, max: values) }
        return .init(min: zip(range.min, values).map { Swift.min($0, $1) }, max: zip(range.max, values).map { Swift.max($0, $1) })
    }
}

/// What the check learns from one case's files.
private struct CaseFacts: Sendable {
    var shape: [Int]
    var spacing: [Double]
    var orientation: String
    var datatype: String
    var labelCounts: [Int: Int]
    var classCounts: [Int: Int]

    init(_ entry: CaseEntry, dataset: String, labelMap: LabelMap?, requirement: LabelRange.Requirement?) throws {
        let (image, label) = try Dataset.load(entry, dataset: dataset)
        func fail(_ reason: String) -> DataError { .caseFailed(dataset: dataset, caseID: entry.id, reason: reason) }
        do {
            try checkSameGrid(image: image, label: label)
            try image.requireFinite()
            let labels = try label.integerLabels()
            var counts: [Int: Int] = [:]
            for v in labels { counts[Int(v), default: 0] += 1 }
            labelCounts = counts
            var mapped: [Int: Int] = [:]
            if let labelMap {
                for (value, count) in counts { mapped[labelMap(value), default: 0] += count }
            }
            classCounts = mapped
            if let requirement, let bad = LabelRange.firstUnrepresentable(
                counts.keys.sorted(), map: labelMap, outChannels: requirement.outChannels) {
                throw LabelRange.refusal(requirement, file: label.name, value: bad.value, class: bad.class)
            }
        } catch let error as VolumeError {
            throw fail(error.description)
        }
        guard image.timepoints == 1 else {
            throw fail("\(image.name) holds \(image.timepoints) volumes (4-D); only single-channel 3-D images are supported")
        }
        shape = image.spatialShape
        spacing = image.geometry.spacingMM
        orientation = image.orientation
        datatype = image.source?.datatype.description ?? "float32 (generated)"
    }
}
