import Foundation

// JSON for `harness evaluate --json` (DESIGN.md):
// {"labels": {"1": {"dice": …, "hd_max": …, "hd95": null, "hd95_note": "prediction is empty", …}, …, "all": {…}}}
// Fields come in `MetricName` order; a null value is followed by its "<name>_note".
// Three ways out: `jsonString()` (ordered text, what the CLI prints), `jsonObject()` (for
// JSONSerialization) and `Codable` (to embed in cell records). `init(jsonData:)` reads any of them.

extension LabelMetrics {
    /// A JSONSerialization-ready dictionary (nil values as `NSNull`, with their notes).
    public func jsonObject() -> [String: Any] {
        var object: [String: Any] = [:]
        for name in MetricName.allCases {
            if let value = self[name], value.isFinite {
                object[name.rawValue] = value
            } else {
                object[name.rawValue] = NSNull()
                object[name.noteKey] = notes[name] ?? "undefined"
            }
        }
        return object
    }

    /// The fields as ordered JSON text.
    public func jsonString(prettyPrinted: Bool = true, indent: String = "") -> String {
        var members: [(String, String)] = []
        for name in MetricName.allCases {
            if let value = self[name], value.isFinite {
                members.append((name.rawValue, jsonNumber(value)))
            } else {
                members.append((name.rawValue, "null"))
                members.append((name.noteKey, jsonQuoted(notes[name] ?? "undefined")))
            }
        }
        return jsonObjectText(members, prettyPrinted: prettyPrinted, indent: indent)
    }
}

extension SegmentationMetrics {
    /// `{"labels": {"1": {...}, ..., "all": {...}}}` as a JSONSerialization-ready dictionary.
    public func jsonObject() -> [String: Any] {
        var labelsObject: [String: Any] = [:]
        for key in keys { labelsObject[key] = self[key]!.jsonObject() }
        return ["labels": labelsObject]
    }

    /// The same as ordered JSON text: labels ascending, then "all"; fields in DESIGN.md order.
    /// Numbers use Swift's shortest round-trip form, so parsing gives back the same Doubles.
    public func jsonString(prettyPrinted: Bool = true) -> String {
        let step = prettyPrinted ? "  " : ""
        let inner = keys.map { key in
            (key, self[key]!.jsonString(prettyPrinted: prettyPrinted, indent: step + step))
        }
        let labelsText = jsonObjectText(inner, prettyPrinted: prettyPrinted, indent: step)
        return jsonObjectText([("labels", labelsText)], prettyPrinted: prettyPrinted, indent: "")
    }

    /// Parses the JSON written by `jsonString`, `jsonObject` or `JSONEncoder` (for reports that read
    /// records back). Uses `JSONDecoder`, which parses Doubles exactly (Linux JSONSerialization does
    /// not always round-trip the last digit).
    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(SegmentationMetrics.self, from: jsonData)
    }
}

/// A JSON key known only at run time ("1", "all", "hd95_note", …).
struct MetricsCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension LabelMetrics: Codable {
    /// The same fields as `jsonString`: a nil (or non-finite) value is `null` plus `"<name>_note"`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: MetricsCodingKey.self)
        for name in MetricName.allCases {
            let key = MetricsCodingKey(name.rawValue)
            if let value = self[name], value.isFinite {
                try container.encode(value, forKey: key)
            } else {
                try container.encodeNil(forKey: key)
                try container.encode(notes[name] ?? "undefined", forKey: MetricsCodingKey(name.noteKey))
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: MetricsCodingKey.self)
        func value(_ name: MetricName) throws -> Double? {
            try container.decodeIfPresent(Double.self, forKey: MetricsCodingKey(name.rawValue))
        }
        func required(_ name: MetricName) throws -> Double {
            guard let v = try value(name) else {
                throw DecodingError.valueNotFound(Double.self, DecodingError.Context(
                    codingPath: container.codingPath + [MetricsCodingKey(name.rawValue)],
                    debugDescription: "\(name.rawValue) must be a number"))
            }
            return v
        }
        var notes: [MetricName: String] = [:]
        for name in MetricName.allCases {
            notes[name] = try container.decodeIfPresent(String.self, forKey: MetricsCodingKey(name.noteKey))
        }
        self.init(
            dice: try required(.dice), hdMax: try value(.hdMax), hd95: try value(.hd95),
            hd95Medpy: try value(.hd95Medpy), assd: try value(.assd), nsd1mm: try value(.nsd1mm),
            volumeRefMM3: try required(.volumeRefMM3), volumePredMM3: try required(.volumePredMM3), notes: notes)
    }
}

extension SegmentationMetrics: Codable {
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: MetricsCodingKey.self)
        var labels = container.nestedContainer(keyedBy: MetricsCodingKey.self, forKey: MetricsCodingKey("labels"))
        for key in keys { try labels.encode(self[key]!, forKey: MetricsCodingKey(key)) }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: MetricsCodingKey.self)
        let labels = try container.nestedContainer(keyedBy: MetricsCodingKey.self, forKey: MetricsCodingKey("labels"))
        var perLabel: [Int: LabelMetrics] = [:]
        var all: LabelMetrics?
        for key in labels.allKeys {
            let metrics = try labels.decode(LabelMetrics.self, forKey: key)
            if key.stringValue == "all" {
                all = metrics
            } else if let label = Int(key.stringValue) {
                perLabel[label] = metrics
            } else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: labels, debugDescription: "label keys are label numbers or \"all\"")
            }
        }
        guard let all else {
            throw DecodingError.keyNotFound(MetricsCodingKey("all"), DecodingError.Context(
                codingPath: labels.codingPath, debugDescription: "labels.all is missing"))
        }
        self.init(labels: perLabel, all: all)
    }
}

private func jsonNumber(_ value: Double) -> String {
    // Swift prints the shortest string that parses back to the same Double ("0.5", "1e-05", "4690.0").
    value == 0 ? "0.0" : "\(value)"
}

/// A JSON string literal of `text`: Foundation's escaping, with slashes left as they are. Encoding a
/// String cannot fail (only non-finite numbers can), so the empty-string fallback is never taken.
private func jsonQuoted(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
}

private func jsonObjectText(_ members: [(String, String)], prettyPrinted: Bool, indent: String) -> String {
    guard !members.isEmpty else { return "{}" }
    if !prettyPrinted {
        return "{" + members.map { jsonQuoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
    let inner = indent + "  "
    return "{\n" + members.map { inner + jsonQuoted($0.0) + ": " + $0.1 }.joined(separator: ",\n") + "\n" + indent + "}"
}
