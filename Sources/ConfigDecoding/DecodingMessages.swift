import Foundation

// The words every configuration reader uses for a bad file: the one-line form of a DecodingError and
// the "did you mean" of an unknown key or value.

/// One line from a DecodingError: the field path and what was wrong.
public func describeDecodingError(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }
    switch error {
    case .typeMismatch(let type, let context): return "'\(path(context.codingPath))' must be \(type)"
    case .valueNotFound(let type, let context): return "'\(path(context.codingPath))' must be \(type), found null"
    case .keyNotFound(let key, let context): return "missing key '\(path(context.codingPath + [key]))'"
    case .dataCorrupted(let context):
        let where_ = path(context.codingPath)
        return (where_.isEmpty ? "" : "'\(where_)': ") + context.debugDescription
    @unknown default: return "\(error)"
    }
}

/// The candidate within edit distance 3 of `word`, if any (for "did you mean").
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, min(3, word.count / 3)) else { return nil }
    return best.0
}
