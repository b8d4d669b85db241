import Experiments
import Foundation

/// How well one segmentation's volumes agree with the reference volumes over a cohort.
public struct VolumeAgreement: Sendable, Equatable, Codable {
    /// Number of (subject, side) pairs compared.
    public var count: Int
    /// Mean of |predicted − reference| / reference over subjects and both sides, in %.
    public var meanAbsolutePercentError: Double
    /// Mean of (predicted − reference) / reference, in % (positive: over-segmentation).
    public var meanPercentBias: Double
    /// Pearson correlation of predicted with reference volumes, pooled over both sides.
    public var correlation: Double
    /// The same per side.
    public var leftCorrelation: Double
    public var rightCorrelation: Double

    public init(reference: [HippocampalVolumes], predicted: [HippocampalVolumes]) {
        precondition(reference.count == predicted.count, "\(reference.count) reference and \(predicted.count) predicted volumes")
        let refs = reference.map(\.left) + reference.map(\.right)
        let preds = predicted.map(\.left) + predicted.map(\.right)
        var absolute = 0.0, signed = 0.0, used = 0
        for (r, p) in zip(refs, preds) where r > 0 {
            absolute += abs(p - r) / r
            signed += (p - r) / r
            used += 1
        }
        count = refs.count
        meanAbsolutePercentError = used > 0 ? 100 * absolute / Double(used) : .nan
        meanPercentBias = used > 0 ? 100 * signed / Double(used) : .nan
        correlation = pearson(refs, preds)
        leftCorrelation = pearson(reference.map(\.left), predicted.map(\.left))
        rightCorrelation = pearson(reference.map(\.right), predicted.map(\.right))
    }
}

/// Pearson's r; NaN when either series is constant or shorter than 2.
public func pearson(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(min(a.count, b.count))
    guard n >= 2 else { return .nan }
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) {
        sab += (x - ma) * (y - mb)
        saa += (x - ma) * (x - ma)
        sbb += (y - mb) * (y - mb)
    }
    guard saa > 0, sbb > 0 else { return .nan }
    return sab / (saa * sbb).squareRoot()
}
