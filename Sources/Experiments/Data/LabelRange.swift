import Dispatch
import Foundation
import Synchronization
import Tensors
import Volumes

/// Whether a data set's labels fit the network that trains on it: after `label_map`, every class must
/// lie in 0..<out_channels. A value outside would reach the loss's one-hot encoding, which traps; so
/// `data check`, `plan` and `run` refuse it before any work (and a cell checks its cases again). The
/// check scans each data set first, so an entry the scan refuses (outside the root) stops `plan` and
/// `run` the same way.
public enum LabelRange {
    /// A data set and the fewest output channels among the backbones that train on it.
    public struct Requirement: Sendable {
        public var dataset: DatasetSpec
        public var outChannels: Int
        /// The backbone with that many channels (named in the refusal).
        public var backbone: String

        public init(dataset: DatasetSpec, outChannels: Int, backbone: String) {
            self.dataset = dataset
            self.outChannels = outChannels
            self.backbone = backbone
        }
    }

    /// Every data set of the spec with its tightest backbone: the spec's data sets train every backbone;
    /// the pre-training data set trains the backbones that start from `pretrained: pretraining` (when its
    /// objective is supervised).
    public static func requirements(_ spec: ExperimentSpec) -> [Requirement] {
        func tightest(_ backbones: [BackboneSpec]) -> BackboneSpec? {
            backbones.min { $0.config.outChannels < $1.config.outChannels }
        }
        var result: [Requirement] = []
        if let backbone = tightest(spec.backbones) {
            for dataset in spec.datasets {
                result.append(.init(dataset: dataset, outChannels: backbone.config.outChannels, backbone: backbone.label))
            }
        }
        // Each supervised stage's labels must fit the backbones that start from it (a self-supervised
        // stage reads no labels).
        for (dataset, backbones) in spec.supervisedStageDatasets() {
            if let backbone = tightest(backbones) {
                result.append(.init(dataset: dataset, outChannels: backbone.config.outChannels, backbone: backbone.label))
            }
        }
        return result
    }

    /// The first source value whose class (after `map`) is outside 0..<outChannels, with that class.
    public static func firstUnrepresentable(_ values: [Int], map: LabelMap?, outChannels: Int) -> (value: Int, class: Int)? {
        for value in values {
            let mapped = map.map { $0(value) } ?? value
            if mapped < 0 || mapped >= outChannels { return (value, mapped) }
        }
        return nil
    }

    /// The refusal for one case file (or the label map, or the generator) that names everything to fix.
    static func refusal(_ requirement: Requirement, file: String, value: Int, class mapped: Int) -> DataError {
        .labelOutOfRange(dataset: requirement.dataset.name, file: file, value: value,
                         mappedClass: requirement.dataset.labelMap == nil ? nil : mapped,
                         outChannels: requirement.outChannels, backbone: requirement.backbone)
    }

    /// Checks every data set of the spec (reading each label file once, in parallel) and throws the
    /// first unrepresentable label. Files that do not read are left to the cell and `data check`,
    /// which report them; this check is only about values.
    public static func check(_ spec: ExperimentSpec) throws {
        for requirement in requirements(spec) { try check(requirement) }
    }

    public static func check(_ requirement: Requirement) throws {
        let dataset = requirement.dataset
        if let synthetic = dataset.synthetic, dataset.layout == .synthetic {
            if let bad = firstUnrepresentable(synthetic.labelValues, map: dataset.labelMap, outChannels: requirement.outChannels) {
                throw refusal(requirement, file: "the synthetic generator", value: bad.value, class: bad.class)
            }
            return
        }
        // The scan (file names only) also refuses entries outside the root before any work.
        let cases = try DatasetScanner.scan(dataset).cases
        // A label map sends every value to one of its classes: when they all fit, no file needs reading.
        if let map = dataset.labelMap, map.classes.allSatisfy({ $0 < requirement.outChannels }) { return }
        let found = Mutex<[Int: DataError]>([:])
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(Parallel.workers, max(cases.count, 1))) { _ in
            while true {
                let n = next.add(1, ordering: .relaxed).oldValue
                guard n < cases.count else { return }
                guard case .files(_, let labelPath) = cases[n].source,
                      let values = try? NIfTI.read(path: labelPath).labelValues(),
                      let bad = firstUnrepresentable(values, map: dataset.labelMap, outChannels: requirement.outChannels)
                else { continue }
                found.withLock { $0[n] = refusal(requirement, file: labelPath, value: bad.value, class: bad.class) }
            }
        }
        // The first case in scan order, so the message does not depend on thread timing.
        if let first = found.withLock({ table in table.keys.min().flatMap { table[$0] } }) { throw first }
    }

    /// The same rule on prepared cases (classes after the label map), just before they are trained or
    /// scored: a guard for paths that did not run the preflight (a Slurm task, a changed file).
    public static func require(_ cases: [PreparedCase], outChannels: Int, backbone: String) throws {
        for c in cases {
            guard let bad = c.label.first(where: { $0 < 0 || Int($0) >= outChannels }) else { continue }
            throw DataError.labelOutOfRange(dataset: c.dataset, file: c.labelPath ?? "case '\(c.id)'", value: Int(bad),
                                            mappedClass: nil, outChannels: outChannels, backbone: backbone)
        }
    }
}
