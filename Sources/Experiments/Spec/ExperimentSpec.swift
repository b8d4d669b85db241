import Backbones
import ConfigDecoding
import Foundation
import PEFTMethods

/// A whole study: backbones × data sets × training budgets × methods × seeds, with one training and
/// one evaluation protocol. Every field is documented in docs/SPEC.md.
public struct ExperimentSpec: Decodable, Sendable {
    public var name: String
    public var description: String?
    public var seeds: [UInt64] = [0]
    public var backbones: [BackboneSpec]
    /// The shared pre-training stage that backbones with `pretrained: pretraining` start from (a
    /// backbone may bring its own instead: `pretrained: {pretraining: {…}}`).
    public var pretraining: PretrainingSpec?
    public var datasets: [DatasetSpec]
    public var budgets: [Budget] = [.all]
    public var methods: [MethodSpec]
    public var training = TrainingSettings()
    public var evaluation = EvaluationSettings()
    public var report = ReportSettings()
    /// Resources `harness slurm` asks for, when not derived from step measurements (`SlurmResources`).
    public var slurm = SlurmRequest()
    /// Where the backbones sit in the file (`backbone:` or `backbones:`), for the paths of problems.
    private var singleBackbone = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, seed, seeds, backbone, backbones, pretraining, datasets, budgets, methods
        case training, evaluation, report, slurm
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        name = try read.required(.name)
        description = try read(.description, nil as String?)
        if read.contains(.seed) { seeds = [try read.required(.seed)] }
        seeds = try read(.seeds, seeds)
        if read.contains(.backbone) {
            backbones = [try read.required(.backbone)]
            singleBackbone = true
        } else {
            backbones = try read.required(.backbones)
        }
        pretraining = try read(.pretraining, nil as PretrainingSpec?)
        datasets = try read.required(.datasets)
        budgets = try read(.budgets, budgets)
        methods = try read.required(.methods)
        try read(into: &self, (.training, \.training), (.evaluation, \.evaluation), (.report, \.report),
                              (.slurm, \.slurm))
        try read.require(SafeName.isValid(name), .name,
                         "name '\(name)' must be \(SafeName.rule): it names the results folder results/<name>")
        try read.require(!seeds.isEmpty, .seeds, "list at least one seed")
        try read.require(!backbones.isEmpty, .backbones, "list at least one backbone")
        try read.require(!datasets.isEmpty, .datasets, "list at least one data set")
        try read.require(!budgets.isEmpty, .budgets, "list at least one training budget")
        try read.require(!methods.isEmpty, .methods, "list at least one method")
        let names = datasets.map(\.name).joined(separator: ", ")
        func unknown(_ stage: PretrainingSpec?) -> String {
            "pretraining.dataset names '\(stage?.datasetReference ?? "")', which is not in datasets: (\(names)); "
                + "name one of them or write the data set out"
        }
        try read.require(pretraining?.resolveDataset(in: datasets) ?? true, .pretraining, unknown(pretraining))
        for index in backbones.indices {
            try read.require(backbones[index].ownStage?.resolveDataset(in: datasets) ?? true,
                             singleBackbone ? .backbone : .backbones, unknown(backbones[index].ownStage))
        }
    }

    /// The stage a backbone with `pretrained: pretraining` starts from: its own, else the shared one.
    public func pretrainingStage(for backbone: BackboneSpec) -> PretrainingSpec? {
        backbone.pretrained == .pretraining ? backbone.ownStage ?? pretraining : nil
    }

    /// The data sets the stages write out in full (a stage that names one of `datasets` adds none),
    /// once each by name.
    public var stageDatasets: [DatasetSpec] {
        var seen = Set(datasets.map(\.name))
        return backbones.compactMap { pretrainingStage(for: $0) }.filter { $0.datasetReference == nil }
            .map(\.dataset).filter { seen.insert($0.name).inserted }
    }

    /// Each supervised stage's data set with the backbones that start from it.
    func supervisedStageDatasets() -> [(DatasetSpec, [BackboneSpec])] {
        var groups: [(DatasetSpec, [BackboneSpec])] = []
        for backbone in backbones {
            guard let stage = pretrainingStage(for: backbone), stage.objective == .supervised else { continue }
            if let index = groups.firstIndex(where: { $0.0.name == stage.dataset.name }) {
                groups[index].1.append(backbone)
            } else {
                groups.append((stage.dataset, [backbone]))
            }
        }
        return groups
    }

    /// Problems that decoding cannot see, each with the path of the field to fix.
    public func validate() -> [(path: [String], message: String)] {
        var problems: [(path: [String], message: String)] = []
        func duplicates(_ labels: [String]) -> [String] {
            Dictionary(grouping: labels, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        }
        for label in duplicates(methods.map(\.label)) {
            problems.append((["methods"], "two methods are labelled '\(label)'; give one a distinct `label`"))
        }
        for label in duplicates(backbones.map(\.label)) {
            problems.append((["backbones"], "two backbones are labelled '\(label)'; give one a distinct `label`"))
        }
        for label in duplicates(datasets.map(\.name)) {
            problems.append((["datasets"], "two data sets are named '\(label)'"))
        }
        for (i, backbone) in backbones.enumerated() {
            let path = singleBackbone ? ["backbone"] : ["backbones", "[\(i)]"]
            do { try backbone.config.validate() } catch { problems.append((path + ["args"], "\(error)")) }
            switch backbone.pretrained {
            case .weights(let file):
                // A regular file only: the cell key digests it, and /dev/zero or a FIFO never ends.
                let target = resolve(file).resolvingSymlinksInPath().path
                let attributes = try? FileManager.default.attributesOfItem(atPath: target)
                if attributes == nil {
                    problems.append((path + ["pretrained"], "weights file \(file) does not exist"))
                } else if attributes?[.type] as? FileAttributeType != .typeRegular {
                    problems.append((path + ["pretrained"], "weights \(file) is not a regular file"))
                }
            case .pretraining where pretrainingStage(for: backbone) == nil:
                problems.append((path + ["pretrained"], "`pretrained: pretraining` needs a top-level `pretraining:` stage "
                                 + "(or the backbone's own: `pretrained: {pretraining: {dataset: …, training: …}}`)"))
            default: break
            }
        }
        for (i, dataset) in datasets.enumerated() {
            for problem in dataset.validate() {
                problems.append((["datasets", "[\(i)]"] + problem.path, problem.message))
            }
        }
        return problems
    }

    /// The spec's own order of report rows (the report knows labels, never the spec).
    public var reportOrder: ReportOrder {
        ReportOrder(backbones: backbones.map(\.label), datasets: datasets.map(\.name), methods: methods.map(\.label))
    }

    /// A path from the spec: absolute, or relative to the working directory (like `${HIPPOPEFT_DATA}`
    /// paths, which CI sets relative to the repository).
    public func resolve(_ path: String) -> URL { URL(fileURLWithPath: path) }
}

/// One backbone of the study and where its starting weights come from.
public struct BackboneSpec: Decodable, Sendable {
    public enum Pretrained: Sendable, Equatable {
        /// Random initialisation (seeded).
        case none
        /// MONAI-named safetensors weights.
        case weights(String)
        /// The spec's `pretraining:` stage, run once and shared by every cell of this backbone.
        case pretraining
    }

    public var label: String
    public var config: BackboneConfig
    public var pretrained: Pretrained
    /// This backbone's own pre-training stage (`pretrained: {pretraining: {…}}`), used instead of the
    /// spec's shared one: a spec can then compare sources (e.g. synthetic vs self-supervised).
    public var ownStage: PretrainingSpec?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, backbone, label, args, pretrained }
    private enum PretrainedKeys: String, CodingKey, CaseIterable { case weights, pretraining }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        config = try BackboneConfig(from: IgnoringDecoder(decoder, ignoring: ["label", "pretrained"]))
        label = try read(.label, config.kind)
        try read.require(SafeName.isValid(label), .label,
                         "label '\(label)' must be \(SafeName.rule): it names the backbone's pre-trained weights file")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try? container.decode(String.self, forKey: .pretrained) {
            switch text {
            case "none", "scratch": pretrained = .none
            case "pretraining": pretrained = .pretraining
            default: pretrained = .weights(text)
            }
        } else if (try? container.nestedContainer(keyedBy: PretrainedKeys.self, forKey: .pretrained)) != nil {
            let mapping = try OptionsReader<PretrainedKeys>(try container.superDecoder(forKey: .pretrained))
            try mapping.require(mapping.contains(.weights) != mapping.contains(.pretraining), .weights,
                                "give one of {weights: PATH} and {pretraining: {dataset: …, training: …}}")
            if mapping.contains(.weights) {
                pretrained = .weights(try mapping.required(.weights))
            } else {
                pretrained = .pretraining
                ownStage = try mapping.required(.pretraining)
            }
        } else if container.contains(.pretrained) {
            throw DecodingError.dataCorruptedError(forKey: .pretrained, in: container, debugDescription:
                "use `none`, `pretraining`, a safetensors path, {weights: PATH} or {pretraining: {…}}")
        } else {
            pretrained = .none
        }
    }
}

/// A method of the study: its registered name, a label for tables, and its options.
/// Written as a bare name (`lora`) or a mapping (`{name: lora, rank: 4, label: lora-r4}`).
public struct MethodSpec: Decodable, Sendable {
    public var label: String
    public var method: any PEFTMethod
    /// The options as canonical JSON (sorted keys), part of every cell key.
    public var configurationJSON: String

    public var name: String { method.name }

    enum CodingKeys: String, CodingKey { case name, label }

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            let type = try Self.type(named: name, decoder: decoder)
            method = type.init()
            label = name
        } else {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let name = try container.decode(String.self, forKey: .name)
            let type = try Self.type(named: name, decoder: decoder)
            method = try type.make(from: IgnoringDecoder(decoder, ignoring: ["name", "label"]))
            label = try container.decodeIfPresent(String.self, forKey: .label) ?? name
        }
        configurationJSON = try canonicalJSON(of: method)
    }

    private static func type(named name: String, decoder: any Decoder) throws -> any PEFTMethod.Type {
        do {
            return try MethodRegistry.type(named: name)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }
}

/// The method's configuration as sorted-key JSON.
func canonicalJSON(of method: any PEFTMethod) throws -> String {
    func encode<M: PEFTMethod>(_ m: M) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(m.config)
    }
    return String(decoding: try encode(method), as: UTF8.self)
}

/// Presents a decoder whose `userInfo` tells nested OptionsReaders to skip some keys.
struct IgnoringDecoder: Decoder {
    let base: any Decoder
    let userInfo: [CodingUserInfoKey: Any]
    var codingPath: [any CodingKey] { base.codingPath }

    init(_ base: any Decoder, ignoring keys: Set<String>) {
        self.base = base
        var info = base.userInfo
        info[.ignoredOptionKeys] = keys
        userInfo = info
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { try base.container(keyedBy: type) }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { try base.unkeyedContainer() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { try base.singleValueContainer() }
}
