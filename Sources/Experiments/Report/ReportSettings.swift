import Backbones

/// The `report:` section: which files `run` and `report` write.
public struct ReportSettings: Codable, Sendable, Equatable {
    public enum Format: String, Codable, Sendable, CaseIterable { case markdown, csv, latex, html }
    public var formats = Format.allCases
    /// The method every other method is tested against (paired Wilcoxon); nil = the best by mean Dice.
    public var reference: String? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case formats, reference }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        formats = try read(.formats, formats)
        reference = try read(.reference, reference)
    }
}
