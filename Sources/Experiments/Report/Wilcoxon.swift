import Foundation

/// The two-sided paired Wilcoxon signed-rank test, as scipy's
/// `wilcoxon(x, y, zero_method="wilcox", correction=True)`:
///
/// 1. d = x − y; zero differences are dropped (Wilcoxon's rule); n = the non-zero count.
/// 2. |d| is ranked with average ranks for ties (exact equality, like `scipy.stats.rankdata`);
///    R+ = Σ ranks of positive d, R− = Σ ranks of negative d.
/// 3. n ≤ 25 and no ties among |d|: the exact null distribution of R+ (all 2ⁿ sign patterns equally
///    likely), p = min(1, 2·min(P(R+ ≤ r+), P(R+ ≥ r+))) (scipy `method="exact"`).
///    Otherwise the normal approximation: mean n(n+1)/4, variance n(n+1)(2n+1)/24 − Σ(t³ − t)/48 over
///    tie groups of size t, continuity correction 0.5 towards the mean, p = 2·(1 − Φ(|z|))
///    (scipy `method="asymptotic", correction=True`).
/// 4. No non-zero difference at all (every pair equal, or no pairs): no test (nil).
///
/// Checked against scipy 1.17 in `Tests/ExperimentsTests/Fixtures/report-scipy.json`
/// (`scripts/fixtures/make_report_fixture.py`).
public enum Wilcoxon {
    /// Largest n for the exact distribution.
    public static let exactLimit = 25

    public struct Result: Sendable, Equatable, Codable {
        public enum Method: String, Sendable, Codable { case exact, normal }
        /// Non-zero differences used.
        public var n: Int
        /// Zero differences dropped.
        public var zeros: Int
        public var rankSumPositive: Double
        public var rankSumNegative: Double
        /// scipy's reported statistic for a two-sided test: min(R+, R−).
        public var statistic: Double { min(rankSumPositive, rankSumNegative) }
        public var pValue: Double
        public var method: Method
        /// Whether some |d| were tied (the exact distribution is then not used).
        public var hasTies: Bool
        /// The continuity-corrected z of the normal approximation (nil for the exact method).
        public var z: Double?
    }

    /// Tests paired samples (x[i], y[i]); nil when there is no non-zero difference.
    public static func signedRank(_ x: [Double], _ y: [Double]) -> Result? {
        precondition(x.count == y.count, "paired samples need equal lengths, got \(x.count) and \(y.count)")
        return signedRank(differences: zip(x, y).map { $0 - $1 })
    }

    /// Tests differences d (x − y) against a symmetric distribution about zero; nil when none is non-zero.
    public static func signedRank(differences: [Double]) -> Result? {
        let nonZero = differences.filter { $0 != 0 && !$0.isNaN }
        let zeros = differences.count - nonZero.count
        let n = nonZero.count
        guard n > 0 else { return nil }

        // Average ranks of |d|, ties by exact equality.
        let order = nonZero.indices.sorted { abs(nonZero[$0]) < abs(nonZero[$1]) }
        var ranks = [Double](repeating: 0, count: n)
        var tieSizes: [Int] = []
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && abs(nonZero[order[end]]) == abs(nonZero[order[start]]) { end += 1 }
            let average = Double(start + 1 + end) / 2  // mean of ranks start+1 … end
            for k in start..<end { ranks[order[k]] = average }
            if end - start > 1 { tieSizes.append(end - start) }
            start = end
        }
        var plus = 0.0, minus = 0.0
        for (d, r) in zip(nonZero, ranks) {
            if d > 0 { plus += r } else { minus += r }
        }
        let hasTies = !tieSizes.isEmpty

        if n <= exactLimit && !hasTies {
            let counts = exactCounts(n)
            let total = counts.reduce(0, +)
            let k = Int(plus.rounded())
            let lower = counts[0...k].reduce(0, +) / total
            let upper = counts[k...].reduce(0, +) / total
            let p = min(1, 2 * min(lower, upper))
            return Result(n: n, zeros: zeros, rankSumPositive: plus, rankSumNegative: minus, pValue: p,
                          method: .exact, hasTies: false, z: nil)
        }

        let nn = Double(n)
        let mean = nn * (nn + 1) / 4
        let tieTerm = tieSizes.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
        let se = ((nn * (nn + 1) * (2 * nn + 1) - tieTerm / 2) / 24).squareRoot()
        var z = (plus - mean) / se
        z -= (z > 0 ? 1 : z < 0 ? -1 : 0) * 0.5 / se
        let p = min(1, erfc(abs(z) / 2.0.squareRoot()))
        return Result(n: n, zeros: zeros, rankSumPositive: plus, rankSumNegative: minus, pValue: p,
                      method: .normal, hasTies: hasTies, z: z)
    }

    /// Number of sign patterns of ranks 1…n giving each rank sum 0…n(n+1)/2 (exact in Double up to 2⁵³).
    static func exactCounts(_ n: Int) -> [Double] {
        let maxSum = n * (n + 1) / 2
        var counts = [Double](repeating: 0, count: maxSum + 1)
        counts[0] = 1
        var reach = 0
        for rank in 1...max(n, 1) where n > 0 {
            reach += rank
            for s in stride(from: reach, through: rank, by: -1) { counts[s] += counts[s - rank] }
        }
        return counts
    }
}
