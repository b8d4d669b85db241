import Backbones
import ConfigDecoding

/// How many cases a split gets: a count (`5`) or a fraction of the usable cases (`0.1`, below 1).
public enum SplitSize: Codable, Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case fraction(Double)

    /// The number of cases out of `total` (fractions rounded to the nearest case).
    public func cases(of total: Int) -> Int {
        switch self {
        case .count(let n): return n
        case .fraction(let f): return Int((f * Double(total)).rounded())
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(Double.self)
        if value >= 0, value < 1, value != 0 {
            self = .fraction(value)
        } else if value >= 0, value == value.rounded(), value < 1e9 {
            self = .count(Int(value))
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(value) is neither a count (0, 1, 2, ...) nor a fraction below 1")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let n): try container.encode(n)
        case .fraction(let f): try container.encode(f)
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return String(n)
        case .fraction(let f): return String(f)
        }
    }
}

/// Fixed validation and test sets of a data set, and the seed of its training-pool order.
///
/// ```yaml
/// split: {validation: 5, test: 20, seed: 0}
/// ```
/// List files (`lists:`) win where given. The seed belongs to the data set, not to a run: every method
/// and every run seed sees the same validation set, test set and training-pool order.
public struct SplitSpec: Codable, Sendable, Equatable {
    /// Validation cases: a count or a fraction (< 1) of the usable cases. Default 0.1.
    public var validation = SplitSize.fraction(0.1)
    /// Test cases: a count or a fraction (< 1) of the usable cases. Default 0.2.
    public var test = SplitSize.fraction(0.2)
    /// Seed of the split and of the training-pool order (the budgets are its prefixes). Default 0.
    public var seed: UInt64 = 0

    public init(validation: SplitSize = .fraction(0.1), test: SplitSize = .fraction(0.2), seed: UInt64 = 0) {
        self.validation = validation
        self.test = test
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case validation, test, seed }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.validation, \.validation), (.test, \.test), (.seed, \.seed))
    }
}
