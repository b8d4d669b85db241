import Experiments
import Foundation

/// Per-feature z-scoring fitted on a training fold only, then applied to that fold's test rows —
/// scikit-learn's `StandardScaler`: mean and population standard deviation (ddof = 0); a constant
/// feature keeps scale 1 (so it becomes 0 rather than NaN).
public struct Standardizer: Sendable, Equatable, Codable {
    public var means: [Double]
    public var scales: [Double]

    public init(means: [Double], scales: [Double]) {
        self.means = means
        self.scales = scales
    }

    /// Fits on `rows` (at least one, all the same length).
    public init(fitting rows: [[Double]]) throws {
        guard let first = rows.first else { throw DiagnosisError.invalidInput("cannot standardise zero rows") }
        let d = first.count
        guard rows.allSatisfy({ $0.count == d }) else { throw DiagnosisError.invalidInput("feature rows differ in length") }
        let n = Double(rows.count)
        var means = [Double](repeating: 0, count: d)
        for row in rows { for j in 0..<d { means[j] += row[j] } }
        for j in 0..<d { means[j] /= n }
        var variances = [Double](repeating: 0, count: d)
        for row in rows {
            for j in 0..<d {
                let centred = row[j] - means[j]
                variances[j] += centred * centred
            }
        }
        // A variance at rounding level relative to the mean counts as constant, as sklearn does.
        let scales = (0..<d).map { j -> Double in
            let sd = (variances[j] / n).squareRoot()
            return sd > 10 * Double.ulpOfOne * max(abs(means[j]), 1) ? sd : 1
        }
        self.init(means: means, scales: scales)
    }

    public func transform(_ row: [Double]) -> [Double] {
        var out = row
        for j in out.indices { out[j] = (row[j] - means[j]) / scales[j] }
        return out
    }

    public func transform(_ rows: [[Double]]) -> [[Double]] { rows.map(transform) }
}
