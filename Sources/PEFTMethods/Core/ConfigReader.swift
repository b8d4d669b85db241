import Backbones

/// Reads a method configuration: every key optional with its default, unknown keys rejected with a
/// "did you mean" (Codable alone would silently ignore a typo like `rnak: 4`).
struct ConfigReader<Key: CodingKey & CaseIterable & RawRepresentable> where Key.RawValue == String {
    private let container: KeyedDecodingContainer<Key>

    init(_ decoder: any Decoder) throws {
        let allowed = Key.allCases.map(\.rawValue)
        if let all = try? decoder.container(keyedBy: AnyConfigKey.self) {
            for key in all.allKeys where !allowed.contains(key.stringValue) {
                let hint = closestMatch(to: key.stringValue, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: all,
                    debugDescription: "unknown option '\(key.stringValue)'\(hint); known: \(allowed.joined(separator: ", "))")
            }
        }
        container = try decoder.container(keyedBy: Key.self)
    }

    func callAsFunction<T: Decodable>(_ key: Key, _ fallback: T) throws -> T {
        try container.decodeIfPresent(T.self, forKey: key) ?? fallback
    }

    /// Throws a decoding error at `key` when `condition` fails.
    func require(_ condition: Bool, _ key: Key, _ message: String) throws {
        if !condition { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message) }
    }
}

private struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
