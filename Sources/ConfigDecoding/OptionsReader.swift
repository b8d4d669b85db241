/// Reads a configuration mapping: every key optional with its default, unknown keys rejected with
/// a "did you mean" (synthesised Codable would silently ignore a typo such as `rnak: 4`). Keys listed
/// in the decoder's `userInfo[.ignoredOptionKeys]` belong to an enclosing structure and are skipped.
public struct OptionsReader<Key: CodingKey & CaseIterable & RawRepresentable> where Key.RawValue == String {
    private let container: KeyedDecodingContainer<Key>

    public init(_ decoder: any Decoder) throws {
        let ignored = decoder.userInfo[.ignoredOptionKeys] as? Set<String> ?? []
        let allowed = Key.allCases.map(\.rawValue)
        if let all = try? decoder.container(keyedBy: AnyOptionKey.self) {
            for key in all.allKeys where !allowed.contains(key.stringValue) && !ignored.contains(key.stringValue) {
                let hint = closestMatch(to: key.stringValue, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                let known = allowed.isEmpty ? "this takes no options" : "known: \(allowed.joined(separator: ", "))"
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: all, debugDescription: "unknown option '\(key.stringValue)'\(hint); \(known)")
            }
        }
        container = try decoder.container(keyedBy: Key.self)
    }

    /// The value at `key`, or `fallback` when the key is absent.
    public func callAsFunction<T: Decodable>(_ key: Key, _ fallback: T) throws -> T {
        try container.decodeIfPresent(T.self, forKey: key) ?? fallback
    }

    /// Reads each listed option into its property of `root`, leaving the property's default where the
    /// key is absent: `try read(into: &self, (.rank, \.rank), (.alpha, \.alpha))` is `read(_:_:)` once
    /// per pair, so a configuration names each option once beside its key.
    public func callAsFunction<Root, each Value: Decodable>(
        into root: inout Root, _ fields: repeat (Key, WritableKeyPath<Root, each Value>)
    ) throws {
        for (key, property) in repeat each fields {
            root[keyPath: property] = try self(key, root[keyPath: property])
        }
    }

    public func required<T: Decodable>(_ key: Key) throws -> T {
        try container.decode(T.self, forKey: key)
    }

    public func contains(_ key: Key) -> Bool { container.contains(key) }

    /// Throws a decoding error located at `key` when `condition` fails.
    public func require(_ condition: Bool, _ key: Key, _ message: String) throws {
        if !condition { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message) }
    }
}

extension CodingUserInfoKey {
    /// A `Set<String>` of keys an `OptionsReader` must not reject (they belong to an enclosing reader).
    public static let ignoredOptionKeys = CodingUserInfoKey(rawValue: "hippopeft.ignoredOptionKeys")!
}

private struct AnyOptionKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
