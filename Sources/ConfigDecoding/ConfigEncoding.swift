/// Writing a configuration back (cell keys hash it): the mirror of `OptionsReader(into:)`, for
/// configurations whose keys are not all stored properties, so Swift cannot synthesise the encoder.
extension KeyedEncodingContainer {
    /// Encodes each listed property of `root` at its key.
    public mutating func encode<Root, each Value: Encodable>(
        _ root: Root, _ fields: repeat (Key, KeyPath<Root, each Value>)
    ) throws {
        for (key, property) in repeat each fields {
            try encode(root[keyPath: property], forKey: key)
        }
    }

    /// Encodes each listed optional property of `root` at its key, leaving the key out where it is nil
    /// (so adding an optional setting does not change the keys of specs that do not set it).
    public mutating func encodeIfPresent<Root, each Value: Encodable>(
        _ root: Root, _ fields: repeat (Key, KeyPath<Root, (each Value)?>)
    ) throws {
        for (key, property) in repeat each fields {
            try encodeIfPresent(root[keyPath: property], forKey: key)
        }
    }
}
