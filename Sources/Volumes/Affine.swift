/// A 4×4 voxel-to-world matrix (row-major): world = A · (i, j, k, 1). NIfTI world space is RAS+ mm.
public struct Affine: Sendable, Equatable, CustomStringConvertible {
    /// The 16 entries, row by row.
    public private(set) var values: [Double]

    /// `rows` must be 4 rows of 4 numbers, or 3 rows (the last row is then 0 0 0 1).
    public init?(rows: [[Double]]) {
        guard rows.count == 4 || rows.count == 3, rows.allSatisfy({ $0.count == 4 }) else { return nil }
        values = rows.flatMap { $0 } + (rows.count == 3 ? [0, 0, 0, 1] : [])
    }

    init(rowMajor values: [Double]) {
        self.values = values
    }

    public static let identity = Affine.diagonal([1, 1, 1])

    /// diag(s0, s1, s2, 1): what a header without qform or sform means.
    public static func diagonal(_ spacing: [Double]) -> Affine {
        var m = [Double](repeating: 0, count: 16)
        for axis in 0..<3 { m[axis * 5] = axis < spacing.count ? spacing[axis] : 1 }
        m[15] = 1
        return Affine(rowMajor: m)
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * 4 + column] }
        set { values[row * 4 + column] = newValue }
    }

    public var rows: [[Double]] { (0..<4).map { Array(values[$0 * 4..<$0 * 4 + 4]) } }

    /// World coordinates of voxel (i, j, k) (fractional indices allowed).
    public func apply(_ i: Double, _ j: Double, _ k: Double) -> SIMD3<Double> {
        SIMD3((0..<3).map { r in self[r, 0] * i + self[r, 1] * j + self[r, 2] * k + self[r, 3] })
    }

    /// Length of each voxel axis in world units (the zooms implied by the matrix).
    public var columnNorms: [Double] {
        (0..<3).map { c in ((0..<3).map { self[$0, c] * self[$0, c] }.reduce(0, +)).squareRoot() }
    }

    /// Entrywise comparison with an absolute tolerance (NIfTI-1 stores matrices as Float32).
    public func isClose(to other: Affine, tolerance: Double = 1e-4) -> Bool {
        zip(values, other.values).allSatisfy { abs($0 - $1) <= tolerance }
    }

    public var description: String {
        rows.prefix(3).map { "[" + $0.map { String($0) }.joined(separator: ", ") + "]" }.joined(separator: " ")
    }
}
