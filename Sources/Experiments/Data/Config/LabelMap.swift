import ConfigDecoding
import Foundation
import Backbones

/// How source label values become training classes.
///
/// YAML forms:
/// - `{1: 1, 2: 1}`: source value → class; values not listed become 0 (background). MSD Hippocampus
///   anterior (1) + posterior (2) → hippocampus (1).
/// - `{select: [165, 166]}`: the listed source values become class 1, everything else 0 (an atlas's
///   left and right hippocampus codes, e.g. LPBA40's 165/166, → hippocampus).
///
/// No `label_map` keeps the source values as classes (they must then be 0...C−1).
public enum LabelMap: Codable, Sendable, Equatable, CustomStringConvertible {
    case map([Int: Int])
    case select([Int])

    /// The class of a source value.
    public func callAsFunction(_ value: Int) -> Int {
        switch self {
        case .map(let table): return table[value] ?? 0
        case .select(let values): return values.contains(value) ? 1 : 0
        }
    }

    /// A lookup table for source values 0...maxValue (faster than the dictionary per voxel).
    func table(upTo maxValue: Int) -> [Float] {
        (0...max(maxValue, 0)).map { Float(self($0)) }
    }

    /// The classes this map can produce, ascending (0 included).
    public var classes: [Int] {
        switch self {
        case .map(let table): return Array(Set(table.values).union([0])).sorted()
        case .select: return [0, 1]
        }
    }

    public var description: String {
        switch self {
        case .map(let table):
            return "{" + table.keys.sorted().map { "\($0): \(table[$0]!)" }.joined(separator: ", ") + "}"
        case .select(let values):
            return "{select: [" + values.map(String.init).joined(separator: ", ") + "]}"
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { Int(stringValue) }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { stringValue = String(intValue) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let keys = container.allKeys
        if keys.contains(where: { $0.stringValue == "select" }) {
            guard keys.count == 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: Key(stringValue: "select"), in: container,
                    debugDescription: "`select` stands alone: write {select: [values]} or a mapping {value: class}")
            }
            let values = try container.decode([Int].self, forKey: Key(stringValue: "select"))
            guard !values.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: Key(stringValue: "select"), in: container, debugDescription: "select needs at least one label value")
            }
            self = .select(values)
            return
        }
        var table: [Int: Int] = [:]
        for key in keys {
            guard let source = Int(key.stringValue.trimmingCharacters(in: .whitespaces)) else {
                let hint = closestMatch(to: key.stringValue, in: ["select"]).map { " (did you mean '\($0)'?)" } ?? ""
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "label_map keys are source label values (integers) or `select`, not "
                        + "'\(key.stringValue)'\(hint)")
            }
            let target = try container.decode(Int.self, forKey: key)
            guard target >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "class \(target) must be 0 or more")
            }
            table[source] = target
        }
        guard !table.isEmpty else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "label_map is empty; write {value: class, ...} or {select: [values]}, or leave it out"))
        }
        self = .map(table)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .map(let table):
            for source in table.keys.sorted() { try container.encode(table[source]!, forKey: Key(stringValue: String(source))) }
        case .select(let values):
            try container.encode(values, forKey: Key(stringValue: "select"))
        }
    }
}
