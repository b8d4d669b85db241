import Dispatch
import Experiments
import Foundation
import Synchronization
import Tensors
import Volumes

/// Where a row's volumes come from.
public enum VolumeSourceKind: String, Codable, Sendable {
    /// The synthetic cohort's own (generating) volumes, before any image exists.
    case cohort
    /// The reference masks (or the table's volume columns).
    case reference
    /// A sweep cell's model segmenting the cohort's images.
    case segmentation
}

/// Per-subject volumes of one source, cached as `RESULTS/volumes/<key>.json`.
public struct SourceVolumes: Codable, Sendable {
    public var source: String
    public var kind: VolumeSourceKind
    /// What the volumes depend on (cohort, volumetry, model); a changed key recomputes them.
    public var key: String
    public var ids: [String]
    public var volumes: [HippocampalVolumes]
    /// Dice of the segmentation with the reference mask per subject (segmentation sources with masks).
    public var dice: [Double]?
}

/// Runs a diagnosis spec: cohort, volumes per source (cached), cross-validated classification, report.
public final class DiagnosisStudy {
    public let spec: DiagnosisSpec
    public let store: ResultStore
    /// Progress lines for the user (stderr in the harness).
    public let log: @Sendable (String) -> Void
    /// Subjects rendered and segmented together (memory ≈ chunk × 1 MB per image).
    public var chunkSize = 16
    /// After `run()`: the volumes of every source, and the report files written.
    public private(set) var volumes: [SourceVolumes] = []
    public private(set) var files: [URL] = []

    static let volumesVersion = "diagnosis-volumes-1"

    public init(spec: DiagnosisSpec, results: URL, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.spec = spec
        self.store = ResultStore(root: results)
        self.log = log
    }

    public var volumesFolder: URL { store.root.appendingPathComponent("volumes") }

    /// Computes (or reads from the cache) every source's volumes, cross-validates the classifiers, and
    /// writes the report files into the results folder.
    public func run() throws -> DiagnosisReport {
        try ResultStore.createFolder(volumesFolder)
        var notes: [String] = []

        // 1. The segmenting cells.
        var cells: [SegmentationCell] = []
        var sweep = spec.sweep
        if let segmentation = spec.segmentation {
            if sweep == nil { sweep = try SpecLoader.load(URL(fileURLWithPath: segmentation.spec)) }
            cells = try SweepCellLookup.cells(segmentation, sweep: sweep!)
            if cells.isEmpty { notes.append("segmentation: no cell of \(segmentation.spec) matches the selection") }
        }

        // 2. The cohort and its volumes per source.
        let cohort: Cohort
        switch spec.cohort {
        case .synthetic(let synthetic): cohort = try syntheticCohort(synthetic, cells: cells, sweep: sweep)
        case .metadata(let table): cohort = try metadataCohort(table, cells: cells, sweep: sweep)
        }
        notes += cohort.notes

        // 3. Classification from each source's volumes.
        let featureSets = spec.effectiveFeatureSets
        var taskSummaries: [DiagnosisReport.TaskSummary] = []
        var rows: [DiagnosisReport.Row] = []
        for task in spec.tasks {
            let members = cohort.subjects.filter { $0.diagnosis == task.negative || $0.diagnosis == task.positive }
            let labels = members.map { $0.diagnosis == task.positive ? 1 : 0 }
            let negatives = labels.filter { $0 == 0 }.count, positives = labels.count - negatives
            taskSummaries.append(.init(task: task.description, negative: task.negative.rawValue, positive: task.positive.rawValue,
                                       negatives: negatives, positives: positives,
                                       majorityRate: labels.isEmpty ? .nan : Double(max(negatives, positives)) / Double(labels.count)))
            let folds: [CrossValidationFold]
            do {
                folds = try spec.crossValidation.split(labels: labels)
            } catch {
                notes.append("task \(task): not evaluated: \(error)")
                continue
            }
            for source in cohort.sources {
                let subjects = cohort.subjects(with: source)
                for set in featureSets {
                    let (x, y, _) = task.select(subjects, features: set.features)
                    for classifier in spec.classifiers {
                        let result = try crossValidate(features: x, labels: y, folds: folds, classifier: classifier)
                        rows.append(DiagnosisReport.Row(source: source.source, kind: source.kind, task: task.description,
                                                        featureSet: set.name, classifier: classifier.shortName, result: result))
                    }
                }
            }
        }
        // Paired differences with the reference rows (same task, features, classifier, folds).
        for i in rows.indices where rows[i].kind != .reference {
            if let reference = rows.first(where: {
                $0.kind == .reference && $0.task == rows[i].task && $0.featureSet == rows[i].featureSet && $0.classifier == rows[i].classifier
            }) {
                rows[i].setDifference(from: reference)
            }
        }

        var sources: [DiagnosisReport.SourceSummary] = []
        let reference = cohort.sources.first { $0.kind == .reference }
        for source in cohort.sources {
            var summary = DiagnosisReport.SourceSummary(source: source.source, kind: source.kind, available: true, message: nil,
                                                        subjects: source.ids.count)
            summary.meanLeft = source.volumes.map(\.left).mean
            summary.meanRight = source.volumes.map(\.right).mean
            if let reference, source.kind != .reference {
                let agreement = VolumeAgreement(reference: reference.volumes, predicted: source.volumes)
                if source.kind == .segmentation {
                    summary.agreement = agreement
                } else {
                    summary.correlationWithReference = agreement.correlation
                }
            }
            summary.cohortDice = source.dice.flatMap { $0.mean }
            if let cell = cells.first(where: { $0.label == source.source }), let record = cell.record {
                summary.sweepTestDice = record.mean(.dice)
                summary.cellKey = cell.cell.key
            }
            let notes = source.volumes.compactMap(\.note)
            if !notes.isEmpty { summary.message = "\(notes.count) subject(s): \(notes[0])" + (notes.count > 1 ? ", …" : "") }
            sources.append(summary)
        }
        for cell in cells {
            if case .unavailable(let reason) = cell.status {
                sources.append(.init(source: cell.label, kind: .segmentation, available: false, message: reason, subjects: 0))
            }
        }

        let k = spec.crossValidation
        let protocolText = "features \(featureSets.map { "\($0.name) = [\($0.features.map(\.specName).joined(separator: ", "))]" }.joined(separator: "; "))"
            + (spec.icvNormalisation ? " (volumes per mille of ICV)" : "")
            + "; z-scored on each training fold; \(k.repeats) × \(k.folds)-fold stratified CV (seed \(k.seed)); "
            + "volumes split by \(spec.volumes.split.description)"
        let report = DiagnosisReport(name: spec.name, description: spec.description, cohort: cohort.description, protocolText: protocolText,
                                     folds: k.folds, repeats: k.repeats, notes: notes, tasks: taskSummaries, sources: sources, rows: rows)
        volumes = cohort.sources
        files = try report.write(to: store.root, volumes: cohort.sources)
        return report
    }

    // MARK: cohorts

    struct Cohort {
        var subjects: [Subject]
        var description: String
        var sources: [SourceVolumes]
        var notes: [String]

        /// The subjects with the volumes of `source`.
        func subjects(with source: SourceVolumes) -> [Subject] {
            zip(subjects, source.volumes).map { subject, volumes in
                var copy = subject
                copy.leftHippocampus = volumes.left
                copy.rightHippocampus = volumes.right
                return copy
            }
        }
    }

    private func syntheticCohort(_ synthetic: SyntheticCohortSpec, cells: [SegmentationCell], sweep: ExperimentSpec?) throws -> Cohort {
        let model = synthetic.cohort
        let subjects = model.generate(seed: synthetic.seed)
        var notes: [String] = []
        // The image style: the spec's, else that of the segmenting cells' synthetic data set, else harp.
        let sweepStyles = Set(cells.compactMap { $0.cell.dataset.synthetic.flatMap { $0.kind == .hippocampus ? $0.style : nil } })
        let style = synthetic.style ?? (sweepStyles.count == 1 ? sweepStyles.first! : .harp)
        if !sweepStyles.isEmpty, !sweepStyles.contains(style) {
            notes.append("the cohort's images are \(style.rawValue)-style; the segmenting models were trained on "
                         + sweepStyles.map(\.rawValue).sorted().joined(separator: ", "))
        }
        let phantoms = CohortPhantoms(style: style, cohortSeed: synthetic.seed)
        let counts = ClinicalGroup.allCases.map { "\($0.rawValue) \(model[$0].count)" }.joined(separator: ", ")
        let description = "synthetic ADNI-like cohort, \(subjects.count) subjects (\(counts)), seed \(synthetic.seed); "
            + "\(style.rawValue)-style phantom images (hippocampal volume ∝ the subject's, \(Int(phantoms.referenceVolume)) mm³ ↦ factor 1)"
        let identity = [Self.volumesVersion, "synthetic", counts, String(synthetic.seed), style.rawValue,
                        String(phantoms.referenceVolume)].joined(separator: "|")
        let ids = subjects.map(\.id)

        let truth = SourceVolumes(source: "cohort volumes", kind: .cohort, key: digest(identity),
                                  ids: ids, volumes: subjects.map { HippocampalVolumes(left: $0.leftHippocampus, right: $0.rightHippocampus) })
        let referenceKey = digest(identity + "|reference|" + "\(spec.volumes.split)")
        var reference = loadCached(referenceKey, ids: ids)
        var pending: [(SegmentationCell, String)] = []
        var done: [String: SourceVolumes] = [:]
        for cell in cells {
            guard case .ready(let checkpoints) = cell.status else { continue }
            let key = digest(identity + "|segmentation|\(spec.volumes.split)|" + cell.cell.key + "|"
                             + checkpoints.map(\.lastPathComponent).joined(separator: ","))
            if let cached = loadCached(key, ids: ids) { done[cell.label] = cached } else { pending.append((cell, key)) }
        }

        if reference == nil || !pending.isEmpty {
            let segmenters = try pending.map { cell, _ in
                try SweepCellLookup.segmenter(for: cell, source: spec.segmentation!, sweep: sweep!)
            }
            var referenceVolumes: [HippocampalVolumes] = []
            var predicted = [[HippocampalVolumes]](repeating: [], count: pending.count)
            var dice = [[Double]](repeating: [], count: pending.count)
            let started = Date()
            var lastLog = 0.0
            log("measuring \(subjects.count) synthetic subjects" + (pending.isEmpty ? "" : " and segmenting them with \(pending.count) model(s)"))
            for start in stride(from: 0, to: subjects.count, by: chunkSize) {
                let range = start..<min(start + chunkSize, subjects.count)
                let split = spec.volumes.split
                let rendered = try parallelMap(Array(range)) { i -> (SyntheticCase, HippocampalVolumes) in
                    let phantom = try phantoms.render(subjects[i], index: i)
                    return (phantom, try Volumetry.measure(phantom.label, split: split))
                }
                referenceVolumes += rendered.map(\.1)
                if !pending.isEmpty {
                    // Each data set's preprocessing (usually one) prepares the images its models expect.
                    var prepared: [String: [PreparedCase]] = [:]
                    for (cell, _) in pending where prepared[cell.cell.dataset.name] == nil {
                        let dataset = cell.cell.dataset
                        prepared[dataset.name] = try parallelMap(rendered.map(\.0)) { phantom in
                            var binary = phantom.label
                            binary.voxels = binary.voxels.map { $0 > 0 ? 1 : 0 }
                            return try CasePreparation.prepare(image: phantom.image, label: binary, id: phantom.id, dataset: dataset.name,
                                                               labelMap: dataset.labelMap, preprocessing: dataset.preprocessing)
                        }
                    }
                    for (n, segmenter) in segmenters.enumerated() {
                        let cases = prepared[segmenter.cell.dataset.name]!
                        let labels = try segmenter.segment(cases)
                        for (c, (phantom, _)) in zip(cases.indices, rendered) {
                            var volume = phantom.label
                            volume.voxels = try cases[c].toOriginalGrid(labels[c])
                            predicted[n].append(try Volumetry.measure(volume, split: split))
                            dice[n].append(foregroundDice(volume.voxels, phantom.label.voxels))
                        }
                    }
                }
                let elapsed = Date().timeIntervalSince(started)
                if elapsed - lastLog >= 15 || range.upperBound == subjects.count {
                    lastLog = elapsed
                    let remaining = elapsed / Double(range.upperBound) * Double(subjects.count - range.upperBound)
                    log(String(format: "  %d/%d subjects (%.0f s, about %.0f s to go)", range.upperBound, subjects.count, elapsed, remaining))
                }
            }
            if reference == nil {
                reference = SourceVolumes(source: "reference masks", kind: .reference, key: referenceKey, ids: ids, volumes: referenceVolumes)
                try save(reference!)
            }
            for (n, (cell, key)) in pending.enumerated() {
                let volumes = SourceVolumes(source: cell.label, kind: .segmentation, key: key, ids: ids, volumes: predicted[n], dice: dice[n])
                try save(volumes)
                done[cell.label] = volumes
            }
        }
        let measured = reference!
        let r = pearson(truth.volumes.map(\.left) + truth.volumes.map(\.right), measured.volumes.map(\.left) + measured.volumes.map(\.right))
        let ratio = (measured.volumes.map(\.total).mean ?? .nan) / (truth.volumes.map(\.total).mean ?? .nan)
        notes.append(String(format: "reference mask volumes vs the cohort's volumes: r = %.4f; phantom scale %.3f mm³ per cohort mm³", r, ratio))
        let segmented = cells.compactMap { done[$0.label] }
        return Cohort(subjects: subjects, description: description, sources: [truth, measured] + segmented, notes: notes)
    }

    private func metadataCohort(_ table: MetadataCohortSpec, cells: [SegmentationCell], sweep: ExperimentSpec?) throws -> Cohort {
        // The columns the features read are required.
        var required: Set<CohortColumn> = []
        for feature in spec.effectiveFeatureSets.flatMap(\.features) {
            switch feature {
            case .age: required.insert(.age)
            case .female: required.insert(.sex)
            case .education: required.insert(.education)
            case .mmse: required.insert(.mmse)
            default: break
            }
            if feature.needsICV { required.insert(.icv) }
        }
        if table.masks == nil && table.volumes == nil { required.formUnion([.leftVolume, .rightVolume]) }
        let options = CohortTableOptions(columns: table.columns, required: required, diagnosisMap: table.diagnosisMap,
                                         visit: table.visit, skipIncomplete: table.skipIncomplete)
        let read = try CohortTable.read(URL(fileURLWithPath: table.metadata), options: options)
        let subjects = read.subjects
        let ids = subjects.map(\.id)
        // Ids become file names in the mask and image templates: one may not lead to another folder.
        if let bad = ids.first(where: { $0.contains("/") || $0 == "." || $0 == ".." || $0.isEmpty }) {
            throw DiagnosisError.invalidInput("\(table.metadata): subject id '\(bad.prefix(64))' would lead out of the folder of "
                                              + "the {id} templates; ids may not contain '/' or be '.' or '..'")
        }
        let counts = ClinicalGroup.allCases.map { group in "\(group.rawValue) \(subjects.filter { $0.diagnosis == group }.count)" }
        let description = "\(table.metadata): \(subjects.count) subjects (\(counts.joined(separator: ", ")))"
        var notes = read.notes
        let split = spec.volumes.split

        let path: @Sendable (String, String) -> String = { template, id in template.replacingOccurrences(of: "{id}", with: id) }
        func stamp(_ file: String) -> String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            return "\(file):\(attributes?[.size] as? Int ?? -1):\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)"
        }
        if let volumesTable = table.volumes {
            let volumes = try VolumeTable.read(URL(fileURLWithPath: volumesTable), ids: ids)
            notes.append("reference volumes: \(volumesTable) (left_volume, right_volume), joined on id")
            let reference = SourceVolumes(source: "reference (\((volumesTable as NSString).lastPathComponent))", kind: .reference,
                                          key: "volumes-table", ids: ids, volumes: volumes)
            return Cohort(subjects: subjects, description: description, sources: [reference], notes: notes)
        }
        guard let masks = table.masks else {
            notes.append("reference volumes: the table's \(read.present[.leftVolume] ?? "?") and \(read.present[.rightVolume] ?? "?") columns")
            let reference = SourceVolumes(source: "reference (table)", kind: .reference, key: "table", ids: ids,
                                          volumes: subjects.map { HippocampalVolumes(left: $0.leftHippocampus, right: $0.rightHippocampus) })
            return Cohort(subjects: subjects, description: description, sources: [reference], notes: notes)
        }
        let missingMasks = ids.map { path(masks, $0) }.filter { !FileManager.default.fileExists(atPath: $0) }
        if !missingMasks.isEmpty {
            throw DiagnosisError.invalidInput("\(missingMasks.count) reference mask(s) do not exist, e.g. \(missingMasks.prefix(3).joined(separator: ", ")); "
                                              + "check cohort.masks (\(masks))")
        }
        let identity = [Self.volumesVersion, "metadata", stamp(table.metadata), masks, "\(split)"].joined(separator: "|")
        let maskStamps = ids.map { stamp(path(masks, $0)) }.joined(separator: ",")
        let referenceKey = digest(identity + "|reference|" + maskStamps)
        let reference: SourceVolumes
        if let cached = loadCached(referenceKey, ids: ids) {
            reference = cached
        } else {
            log("measuring \(ids.count) reference masks")
            let volumes = try parallelMap(ids) { id in try Volumetry.measure(try NIfTI.read(path: path(masks, id)), split: split) }
            reference = SourceVolumes(source: "reference masks", kind: .reference, key: referenceKey, ids: ids, volumes: volumes)
            try save(reference)
        }
        var segmented: [SourceVolumes] = []
        if let images = table.images, let sweep {
            let missing = ids.map { path(images, $0) }.filter { !FileManager.default.fileExists(atPath: $0) }
            let ready = cells.filter { if case .ready = $0.status { true } else { false } }
            if !missing.isEmpty && !ready.isEmpty {
                throw DiagnosisError.invalidInput("\(missing.count) image(s) do not exist, e.g. \(missing.prefix(3).joined(separator: ", ")); check cohort.images (\(images))")
            }
            let imageStamps = ids.map { stamp(path(images, $0)) }.joined(separator: ",")
            for cell in ready {
                guard case .ready(let checkpoints) = cell.status else { continue }
                let key = digest(identity + "|segmentation|" + imageStamps + maskStamps + cell.cell.key
                                 + checkpoints.map(\.lastPathComponent).joined(separator: ","))
                if let cached = loadCached(key, ids: ids) {
                    segmented.append(cached)
                    continue
                }
                let segmenter = try SweepCellLookup.segmenter(for: cell, source: spec.segmentation!, sweep: sweep)
                log("segmenting \(ids.count) images with \(cell.label)")
                var volumes: [HippocampalVolumes] = [], dice: [Double] = []
                let dataset = cell.cell.dataset
                for start in stride(from: 0, to: ids.count, by: chunkSize) {
                    let chunk = Array(ids[start..<min(start + chunkSize, ids.count)])
                    let loaded = try parallelMap(chunk) { id -> (Volume, PreparedCase) in
                        let image = try NIfTI.read(path: path(images, id)), mask = try NIfTI.read(path: path(masks, id))
                        return (mask, try CasePreparation.prepare(image: image, label: mask, id: id, dataset: dataset.name,
                                                                  labelMap: dataset.labelMap, preprocessing: dataset.preprocessing))
                    }
                    let labels = try segmenter.segment(loaded.map(\.1))
                    for ((mask, prepared), label) in zip(loaded, labels) {
                        var volume = try prepared.original.referenceVolume()
                        volume.voxels = try prepared.toOriginalGrid(label)
                        volumes.append(try Volumetry.measure(volume, split: split))
                        dice.append(foregroundDice(volume.voxels, mask.voxels))
                    }
                }
                let result = SourceVolumes(source: cell.label, kind: .segmentation, key: key, ids: ids, volumes: volumes, dice: dice)
                try save(result)
                segmented.append(result)
            }
        }
        return Cohort(subjects: subjects, description: description, sources: [reference] + segmented, notes: notes)
    }

    // MARK: cache

    private func cacheURL(_ key: String) -> URL { volumesFolder.appendingPathComponent(key + ".json") }

    private func loadCached(_ key: String, ids: [String]) -> SourceVolumes? {
        guard let data = try? Data(contentsOf: cacheURL(key)),
              let cached = try? ResultStore.decoder.decode(SourceVolumes.self, from: data),
              cached.key == key, cached.ids == ids, cached.volumes.count == ids.count else { return nil }
        return cached
    }

    private func save(_ volumes: SourceVolumes) throws {
        try ResultStore.writeAtomically(try ResultStore.encoder.encode(volumes), to: cacheURL(volumes.key))
    }
}
