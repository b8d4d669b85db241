import Backbones
import ConfigDecoding
import Foundation
import PEFTMethods

/// One run of a sweep: a backbone fine-tuned by a method on a training budget of a data set, with a seed.
public struct Cell: Sendable {
    public let index: Int
    public let backbone: BackboneSpec
    public let dataset: DatasetSpec
    public let budget: Budget
    public let method: MethodSpec
    public let seed: UInt64
    /// Hash of everything that changes the outcome; names the cell's record.
    public let key: String

    /// The coordinates used by `--only` filters and in tables.
    public var coordinates: [String: String] {
        ["backbone": backbone.label, "dataset": dataset.name, "budget": budget.label, "method": method.label, "seed": String(seed)]
    }

    public var title: String {
        "\(backbone.label) · \(dataset.name) · budget \(budget.label) · \(method.label) · seed \(seed)"
    }
}

extension Budget {
    public var label: String {
        switch self {
        case .count(let n): String(n)
        case .all: "all"
        }
    }
}

/// Bumped whenever a change to the code changes results, so old records are not reused.
public let resultsVersion = "hippopeft-results-1"

/// A 128-bit FNV-1a digest in hex (two 64-bit lanes with different offsets): cell keys and file checks.
public func digest(_ text: String) -> String {
    var a: UInt64 = 0xCBF2_9CE4_8422_2325, b: UInt64 = 0x6C62_272E_07BB_0142
    for byte in text.utf8 {
        a = (a ^ UInt64(byte)) &* 0x100_0000_01B3
        b = (b ^ UInt64(byte)) &* 0x100_0000_01B3 ^ (b >> 29)
    }
    return String(format: "%016llx%016llx", a, b)
}

/// A filter such as `backbone=unetr,seed=0` (commas: all must hold; `|` inside a value: any of).
public struct CellFilter: Sendable {
    let conditions: [(key: String, values: Set<String>)]

    public init(_ text: String) throws {
        var conditions: [(String, Set<String>)] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let keys = ["backbone", "dataset", "budget", "method", "seed"]
            guard pieces.count == 2, keys.contains(pieces[0]) else {
                throw SpecError([SpecIssue(file: "--only", path: "", message:
                    "'\(part)' is not KEY=VALUE with KEY one of \(keys.joined(separator: ", "))")])
            }
            conditions.append((pieces[0], Set(pieces[1].split(separator: "|").map(String.init))))
        }
        self.conditions = conditions
    }

    public func matches(_ cell: Cell) -> Bool {
        let coordinates = cell.coordinates
        return conditions.allSatisfy { condition in coordinates[condition.key].map(condition.values.contains) ?? false }
    }
}

extension ExperimentSpec {
    /// A data set's training budgets: its own `budgets:`, else the spec's.
    public func budgets(of dataset: DatasetSpec) -> [Budget] { dataset.budgets ?? budgets }

    /// All cells: backbones × data sets × budgets × methods × seeds, in that nesting order.
    public func cells(pretrainedDigest: (BackboneSpec) -> String = { _ in "" }) throws -> [Cell] {
        var cells: [Cell] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let shared = try json(training.outcomeSettings) + json(evaluation)
        for backbone in backbones {
            let backboneJSON = try json(backbone.config) + pretrainedDigest(backbone)
            for dataset in datasets {
                let datasetJSON = try json(dataset.locationFree)
                for budget in budgets(of: dataset) {
                    for method in methods {
                        for seed in seeds {
                            let identity = [resultsVersion, backboneJSON, datasetJSON, budget.label, method.name,
                                            method.configurationJSON, shared, String(seed)].joined(separator: "\u{1F}")
                            cells.append(Cell(index: cells.count, backbone: backbone, dataset: dataset, budget: budget,
                                              method: method, seed: seed, key: digest(identity)))
                        }
                    }
                }
            }
        }
        return cells
    }
}
