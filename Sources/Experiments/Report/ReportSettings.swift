import Backbones
import ConfigDecoding

/// The `report:` section: which files `run` and `report` write, and the reference of the tests.
public struct ReportSettings: Codable, Sendable, Equatable {
    /// `markdown` → report.md, `csv` → report.csv, `latex` → report.tex, `html` → report.html (tables and
    /// inline plots), `svg` → the plots as separate files (dice-vs-budget-*.svg, dice-vs-parameters-*.svg).
    public enum Format: String, Codable, Sendable, CaseIterable { case markdown, csv, latex, html, svg }
    public var formats = Format.allCases
    /// The method every other method is tested against (paired Wilcoxon); nil = the best by mean Dice.
    public var reference: String? = nil

    public init(formats: [Format] = Format.allCases, reference: String? = nil) {
        self.formats = formats
        self.reference = reference
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case formats, reference }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        try read(into: &self, (.formats, \.formats), (.reference, \.reference))
    }
}
