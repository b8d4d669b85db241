import Backbones
import ConfigDecoding

/// A string-valued option decoded with a "did you mean" when the value is not one of the choices
/// (synthesised Codable for enums only says "invalid String value"). Used by the data spec's enums.
public protocol NamedChoice: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension NamedChoice {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            let names = Self.allCases.map(\.rawValue)
            let hint = closestMatch(to: text, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown value '\(text)'\(hint); use one of \(names.joined(separator: ", "))")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Sizes in specs are written in NIfTI axis order (i, j, k), like nibabel and MONAI; the engine's
/// tensors are [k, j, i] (D, H, W). This is the one place that converts.
public enum AxisOrder {
    /// (i, j, k) → [k, j, i].
    public static func tensorShape(fromNIfTI size: [Int]) -> [Int] { Array(size.prefix(3).reversed()) }
    /// [k, j, i] → (i, j, k).
    public static func niftiSize(fromTensor shape: [Int]) -> [Int] { Array(shape.suffix(3).reversed()) }
}
