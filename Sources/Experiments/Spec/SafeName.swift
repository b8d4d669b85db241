/// Names from a spec that become file or folder names: the spec's `name` (results/<name>), a data
/// set's name, a backbone's label (its pre-trained weights file), a diagnosis study's name. One rule
/// for all: 1–64 ASCII letters, digits, '.', '_' or '-', not starting with '.', so no name is "." or
/// "..", hides a file, or holds a '/' that would lead out of the results folder.
public enum SafeName {
    public static let rule = "1–64 letters, digits, '.', '_' or '-', not starting with '.'"

    public static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.unicodeScalars.count) && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}
